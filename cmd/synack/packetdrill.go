package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/pktdrill"
)

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
tcp.Config can express it.`,
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
			passed, failed := 0, 0
			for _, f := range args {
				if verbose {
					fmt.Fprintf(out, "== %s\n", f)
				}
				r := pktdrill.RunFile(f, opts)
				if verbose {
					for _, n := range r.Notes {
						fmt.Fprintf(out, "note: %s\n", n)
					}
				}
				fmt.Fprintln(out, r.Summary())
				if r.Pass {
					passed++
				} else {
					failed++
				}
			}
			fmt.Fprintf(out, "%d passed, %d failed\n", passed, failed)
			if failed > 0 {
				return failure{fmt.Errorf("%d of %d scripts failed", failed, passed+failed)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "packetdrill's own matching instead of the tolerant mode")
	cmd.Flags().StringVar(&profile, "profile", "synack", "stack policy: synack (its defaults) or linux")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print every event, packet and note")
	return cmd
}
