package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

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
	var strict, verbose, kernel, diff bool
	var profile, ipVersion string
	var tolUsecs int64
	cmd := &cobra.Command{
		Use:   "packetdrill [--strict] [--profile linux] [--ip_version V] [--kernel | --diff] [-v] FILES...",
		Short: "Run packetdrill scripts against synack's stack on a virtual clock, or the kernel's",
		Long: `Run packetdrill scripts against synack's stack on a virtual clock, or the kernel's.

The stack is 192.168.0.1 and the scripted peer 192.0.2.1 (they exist only in
this process); the stack binds and connects to port 8080; MTU 1500. Each
--ip_version=ipv6 makes them fd3d:fa7b:d17d::1 and fd3d:fa7b:d17d:8888::1
and the packets IPv6; ipv4-mapped-ipv6 keeps IPv4 packets under AF_INET6
sockets with ::ffff: addresses (a script's own --ip_version wins). ICMP
lines ("< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]") quote the
stack's own segment of that sequence number on the connection. Each
script passes or fails with its first mismatch: the script line, the expected
and the actual segment or return value, and the time.

Tolerant mode (the default) is the matching the public corpus README defines
for a stack that is not Linux; --strict is packetdrill's own. --profile linux
sets the stack's policy the way the scripts' Linux sysctls do, where
synack has a setting for it.

--kernel (Linux, root, /dev/net/tun) runs each script against this machine's
own TCP instead, as packetdrill does: in a private network namespace that
dies with the process, through a TUN device, with real sockets, on the real
clock, with packetdrill's strict matching. The addresses are remapped into
198.18.0.0/15: the kernel is 198.18.0.1, the scripted peer 198.18.0.2
(for ipv6, into 2001:2::/48: 2001:2::1 and 2001:2::2).
packetdrill's defaults.sh sysctls, and the net.ipv4.tcp_* sysctls the
script's commands set, are applied inside the namespace (others are
skipped, with a note). --diff runs each script against both and prints
where synack and the kernel part.

Backquoted shell lines are never run; a note names each (file:line and the
command), and so every option, sysctl and %{ }% block the runner ignored or
interpreted. The summary counts passed, failed (the stack did something
else), unsupported (the runner cannot express the script) and malformed
(the script is wrong), and names the profile and the matching.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("packetdrill needs at least one script file: see 'synack packetdrill --help'")}
			}
			if !slices.Contains(pktdrill.Profiles, profile) {
				return usageError{fmt.Errorf("--profile %q: unknown profile (known: synack, linux)", profile)}
			}
			if kernel && diff {
				return usageError{fmt.Errorf("--kernel and --diff: choose one (--diff runs the kernel too)")}
			}
			if kernel || diff {
				if err := pktdrill.KernelAvailable(); err != nil {
					return fmt.Errorf("--kernel: %w", err)
				}
			}
			switch ipVersion {
			case "", "ipv4", "ipv6", "ipv4-mapped-ipv6":
			default:
				return usageError{fmt.Errorf("--ip_version %q: expected ipv4, ipv6 or ipv4-mapped-ipv6", ipVersion)}
			}
			if tolUsecs <= 0 {
				return usageError{fmt.Errorf("--tolerance_usecs %d: expected a positive number of microseconds", tolUsecs)}
			}
			out := cmd.OutOrStdout()
			opts := pktdrill.Options{Strict: strict, Profile: profile, Kernel: kernel, Tolerance: time.Duration(tolUsecs) * time.Microsecond, IPVersion: ipVersion}
			if verbose {
				opts.Log = out
			}
			if diff {
				return runDiff(out, args, opts)
			}
			counts := map[string]int{}
			passed, total, skipped := 0, 0, 0
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
				total++
				if r.Pass {
					passed++
				} else {
					counts[r.Failure.KindOf()]++
				}
			}
			matching := "tolerant"
			if strict || kernel {
				matching = "strict"
			}
			what := fmt.Sprintf("profile %s: %s", profile, profileWords[profile])
			if kernel {
				what = "the kernel's TCP (" + kernelRelease() + ")"
			}
			fmt.Fprintf(out, "%d passed, %d failed", passed, counts[pktdrill.Failed])
			if n := counts[pktdrill.Unsupported]; n > 0 {
				fmt.Fprintf(out, ", %d unsupported", n)
			}
			if n := counts[pktdrill.Malformed]; n > 0 {
				fmt.Fprintf(out, ", %d malformed", n)
			}
			fmt.Fprintf(out, " (%s; %s matching)\n", what, matching)
			if skipped > 0 && profile != "linux" && !kernel {
				fmt.Fprintf(out, "note: %s not run (in the public corpus they set Linux sysctls): --profile linux sets the stack as the corpus's defaults.sh sets Linux, where synack has a setting for it\n",
					plural(skipped, "backquoted shell command was", "backquoted shell commands were"))
			}
			if passed < total {
				return failure{fmt.Errorf("%d of %d scripts failed", total-passed, total)}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "packetdrill's own matching instead of the tolerant mode")
	cmd.Flags().StringVar(&profile, "profile", "synack", "stack policy: synack (its defaults) or linux")
	cmd.Flags().BoolVar(&kernel, "kernel", false, "run against this machine's kernel TCP in a private network namespace (Linux, root)")
	cmd.Flags().BoolVar(&diff, "diff", false, "run against synack and the kernel, and print where they differ")
	cmd.Flags().Int64Var(&tolUsecs, "tolerance_usecs", pktdrill.DefaultTolerance.Microseconds(), "timing tolerance in microseconds, as packetdrill's (a script's own --tolerance_usecs wins)")
	cmd.Flags().StringVar(&ipVersion, "ip_version", "ipv4", "ipv4, ipv6 or ipv4-mapped-ipv6, as packetdrill's (a script's own --ip_version wins)")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print every event and packet as each script runs")
	return cmd
}

// kernelRelease is uname -r.
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown release"
	}
	return "Linux " + strings.TrimSpace(string(b))
}

// runDiff runs each script against synack (with opts' profile and
// matching) and against the kernel, and prints, line by line, where the
// two part: the lines one got past and the other did not, and each one's
// first failure.
func runDiff(out io.Writer, files []string, opts pktdrill.Options) error {
	same, differ := 0, 0
	kopts := opts
	kopts.Kernel = true
	for _, f := range files {
		opts.Kernel = false
		sr := pktdrill.RunFile(f, opts)
		kr := pktdrill.RunFile(f, kopts)
		d := pktdrill.Diff(f, sr, kr)
		if d == "" {
			same++
			fmt.Fprintf(out, "SAME %s: %s\n", f, verdict(sr))
			continue
		}
		differ++
		fmt.Fprintf(out, "DIFF %s\n%s", f, d)
	}
	fmt.Fprintf(out, "%d the same, %d different (synack: profile %s, %s matching; kernel: %s, strict matching)\n",
		same, differ, opts.Profile, map[bool]string{true: "strict", false: "tolerant"}[opts.Strict], kernelRelease())
	if differ > 0 {
		return failure{fmt.Errorf("%d of %d scripts differ between synack and the kernel", differ, same+differ)}
	}
	return nil
}

func verdict(r *pktdrill.Result) string {
	if r.Pass {
		return "both pass"
	}
	return "both fail at line " + fmt.Sprint(r.Failure.Line)
}
