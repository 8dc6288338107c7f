//go:build linux

package netns_test

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/gosynack/synack/internal/netns"
)

// A named namespace made on a machine where no `ip netns add` has run yet
// (no /run/netns, as just after boot) survives an `ip netns add` made after
// it. iproute2 makes /run/netns a mount point of its own, with shared
// propagation, by bind-mounting the directory on itself when it is not one
// yet; a name mounted before that is hidden under the new mount, where
// neither `ip netns del` nor Remove can unmount it (unlinking it fails with
// "device or resource busy") and the namespace leaks. So New makes the
// mount point first, as `ip netns add` does.
//
// The check runs in a mount namespace of its own with a tmpfs on /run
// (unshare(1) with private propagation): nothing it mounts is seen outside
// it, and everything it made dies with it.
func TestNamedOnFreshRunDir(t *testing.T) {
	if os.Getenv("SYNACK_NETNS_FRESH_RUN") == "" {
		if err := netns.Available(); err != nil {
			t.Skipf("skipped: %v", err)
		}
		for _, tool := range []string{"unshare", "ip"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Skipf("skipped: %v", err)
			}
		}
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs synack-fresh-run /run && exec "$0" -test.run='^TestNamedOnFreshRunDir$' -test.v`, self)
		cmd.Env = append(os.Environ(), "SYNACK_NETNS_FRESH_RUN=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in a mount namespace with a fresh /run: %v\n%s", err, out)
		}
		return
	}
	if _, err := os.Stat("/run/netns"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("/run/netns on the fresh /run: %v, want none", err)
	}
	n, err := netns.New(netns.Options{Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	other := n.Name() + "-ip"
	for _, args := range [][]string{{"netns", "add", other}, {"netns", "del", other}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			n.Remove()
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	if err := n.Remove(); err != nil {
		t.Fatalf("Remove after an ip netns add: %v", err)
	}
	if _, err := os.Stat("/run/netns/" + n.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("/run/netns/%s after Remove: %v, want none", n.Name(), err)
	}
}
