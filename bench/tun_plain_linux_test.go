//go:build linux

package bench

import "os"

// SYNACK_TUN_PLAIN=1 runs BenchmarkTUN on a device without offloads
// (tun.Options.NoOffload): the batched reads and the writer goroutine
// alone. tun.sh plain [NEW] compares that with offloads on.
func init() {
	tunNS.NoOffload = os.Getenv("SYNACK_TUN_PLAIN") != ""
}
