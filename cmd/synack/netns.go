package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/internal/netns"
)

// euid is the effective user id (a variable for tests).
var euid = os.Geteuid

// defaultNetns is the namespace `synack netns up` makes.
const defaultNetns = "synack"

func newNetns() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "netns",
		Short: "Make or remove a network namespace where synack talks to the kernel",
		Long: `synack netns up makes a network namespace (like 'ip netns add') holding a TUN
device: the kernel's side is ` + netns.KernelPrefix.String() + ` and ` + netns.KernelPrefix6.String() + `, synack's is
` + netns.StackAddr.String() + ` and ` + netns.StackAddr6.String() + `, and ` + netns.RoutedPrefix.String() + ` and ` + netns.RoutedPrefix6.String() + ` are routed to the
device. IPv6 on the device does no duplicate address detection (the address
is usable at once), has no link-local address and sends no router
solicitations. Nothing outside the namespace changes.
synack netns down removes it. Both need root.`,
	}
	var name, tunName string
	var mtu int
	up := &cobra.Command{
		Use:   "up",
		Short: "Make the namespace and its TUN device",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if mtu < 68 || mtu > 65535 {
				return usageError{fmt.Errorf("--mtu %d: want 68 to 65535", mtu)}
			}
			if err := netns.CheckName(name); err != nil {
				return usageError{fmt.Errorf("--name %q: %v", name, err)}
			}
			if err := netns.CheckDeviceName(tunName); err != nil {
				return usageError{fmt.Errorf("--tun %q: %v", tunName, err)}
			}
			if err := needRoot("netns up", "to create a network namespace and its TUN device"); err != nil {
				return err
			}
			if err := netns.Available(); err != nil {
				return failure{err}
			}
			ns, err := netns.New(netns.Options{Name: name, TUN: tunName, MTU: mtu, Persist: true})
			if errors.Is(err, fs.ErrExist) {
				return failure{fmt.Errorf("namespace %s exists already: remove it first with 'synack netns down --name %s', or choose another --name", shq(name), shq(name))}
			}
			if err != nil {
				return failure{err}
			}
			w := cmd.OutOrStdout()
			n, dev := shq(ns.Name()), shq(ns.TUNName())
			fmt.Fprintf(w, "namespace %s: device %s, kernel %v and %v, synack %v and %v\n", n, dev, netns.KernelPrefix, netns.KernelPrefix6, netns.StackAddr, netns.StackAddr6)
			fmt.Fprintf(w, "next:   synack serve --tun %s --netns %s --http .\n", dev, n)
			fmt.Fprintf(w, "then:   ip netns exec %s curl http://%v/\n", n, netns.StackAddr)
			fmt.Fprintf(w, "   or:  ip netns exec %s curl -6 'http://[%v]/'\n", n, netns.StackAddr6)
			fmt.Fprintf(w, "finally: synack netns down --name %s\n", n)
			return nil
		},
	}
	down := &cobra.Command{
		Use:   "down",
		Short: "Remove the namespace and its TUN device",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := netns.CheckExistingName(name); err != nil {
				return usageError{fmt.Errorf("--name %q: %v", name, err)}
			}
			if err := needRoot("netns down", "to remove the namespace and its TUN device"); err != nil {
				return err
			}
			if err := netns.RemoveNamed(name); err != nil {
				return failure{err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "namespace %s removed\n", shq(name))
			return nil
		},
	}
	for _, c := range []*cobra.Command{up, down} {
		c.Flags().StringVar(&name, "name", defaultNetns, "namespace name")
	}
	up.Flags().StringVar(&tunName, "tun", netns.DefaultTUN, "TUN device name")
	up.Flags().IntVar(&mtu, "mtu", 1500, "MTU of the TUN device")
	cmd.AddCommand(up, down)
	return cmd
}

// needRoot says, when not root, that cmd needs root and what for.
func needRoot(cmd, what string) error {
	if euid() == 0 {
		return nil
	}
	return failure{fmt.Errorf("%s needs root (%s): run it with sudo", cmd, what)}
}
