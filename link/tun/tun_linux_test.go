//go:build linux

package tun_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosynack/synack/link/tun"
)

// Without /dev/net/tun the error says so and what to do.
func TestNoControlDevice(t *testing.T) {
	defer tun.SetDevPath(filepath.Join(t.TempDir(), "tun"))()
	_, err := tun.Open("synack9", 0)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "does not exist") || !strings.Contains(err.Error(), "modprobe tun") {
		t.Fatalf("Open without the control device: %v", err)
	}
}
