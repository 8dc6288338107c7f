package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/pktdrill"
)

// profileWords say what each profile is, for the summary.
var profileWords = map[string]string{
	"synack": "synack's own defaults",
	"linux":  "the Linux sysctls of the corpus's defaults.sh, where synack has a setting for them",
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func newPacketdrill() *cobra.Command {
	var strict, verbose bool
	var profile string
	cmd := &cobra.Command{
		Use:   "packetdrill [--strict] [--profile linux] [-v] FILES...",
		Short: "Run packetdrill scripts against synack's stack on a virtual clock",
		Long: `Run packetdrill scripts against synack's stack on a virtual clock.

The stack is 192.168.0.1 and the scripted peer 192.0.2.1 (they exist only in
this process); the stack binds and connects to port 8080; MTU 1500. Each
script passes or fails with its first mismatch: the script line, the expected
and the actual segment or return value, and the time.

Tolerant mode (the default) is the matching the public corpus README defines
for a stack that is not Linux; --strict is packetdrill's own. --profile linux
sets the stack's policy the way the scripts' Linux sysctls do, where
synack has a setting for it.

Backquoted shell lines are never run; a note names each (file:line and the
command), and so every option, sysctl and %{ }% block the runner ignored or
interpreted. The summary names the profile and the matching.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("packetdrill needs at least one script file: see 'synack packetdrill --help'")}
			}
			if !slices.Contains(pktdrill.Profiles, profile) {
				return usageError{fmt.Errorf("--profile %q: unknown profile (known: synack, linux)", profile)}
			}
			out := cmd.OutOrStdout()
			opts := pktdrill.Options{Strict: strict, Profile: profile}
			if verbose {
				opts.Log = out
			}
			passed, failed, skipped := 0, 0, 0
			for _, f := range args {
				if verbose {
					fmt.Fprintf(out, "== %s\n", f)
				}
				r := pktdrill.RunFile(f, opts)
				// What the runner skipped or interpreted is said whatever
				// the verbosity: a script whose commands were not run
				// passes on other terms than it was written for.
				for _, n := range r.Notes {
					fmt.Fprintf(out, "note: %s\n", n)
				}
				fmt.Fprintln(out, r.Summary())
				skipped += r.SkippedCommands
				if r.Pass {
					passed++
				} else {
					failed++
				}
			}
			matching := "tolerant"
			if strict {
				matching = "strict"
			}
			fmt.Fprintf(out, "%d passed, %d failed (profile %s: %s; %s matching)\n", passed, failed, profile, profileWords[profile], matching)
			if skipped > 0 && profile != "linux" {
				fmt.Fprintf(out, "note: %s not run (in the public corpus they set Linux sysctls): --profile linux sets the stack as the corpus's defaults.sh sets Linux, where synack has a setting for it\n",
					plural(skipped, "backquoted shell command was", "backquoted shell commands were"))
			}
			if failed > 0 {
				return failure{fmt.Errorf("%d of %d scripts failed", failed, passed+failed)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "packetdrill's own matching instead of the tolerant mode")
	cmd.Flags().StringVar(&profile, "profile", "synack", "stack policy: synack (its defaults) or linux")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print every event and packet as each script runs")
	return cmd
}
