// Command synack runs synack's TCP on a simulated network and shows what it
// does: `synack demo`, `synack scenario list`, `synack scenario run NAME`,
// draws captures (`synack ladder FILE`), runs soaks and packetdrill
// scripts, and serves `synack web`.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// usageError marks bad command-line input: exit status 2, as flag parsing
// errors have.
type usageError struct{ error }

// failure marks a run that completed but did not behave as it should: exit
// status 1.
type failure struct{ error }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "synack:", err)
	var f failure
	if errors.As(err, &f) {
		return 1
	}
	return 2
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "synack",
		Short: "A user-space TCP/IP stack you can watch",
		Long: `synack is a TCP/IP stack written in Go that shows what it does.

It runs on a deterministic simulated network (virtual time, seeded loss, delay,
reordering and duplication), so every run can be repeated exactly from its seed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	registerLang(root)
	root.AddCommand(newDemo(), newScenario(), newPacketdrill(), newLadder(), newSoak(), newPlot(), newWeb(), newNetns(), newServe(), newGet(), newRelay())
	return root
}

// exactArgs is cobra.ExactArgs with an error that names what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s) (%s), got %d: see '%s --help'", cmd.CommandPath(), n, what, len(args), cmd.CommandPath())}
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}
