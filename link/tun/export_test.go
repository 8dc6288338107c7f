//go:build linux

package tun

// SetDevPath points Open at another control device and returns a func
// that restores it.
func SetDevPath(p string) func() {
	old := devPath
	devPath = p
	return func() { devPath = old }
}

// MaxQueue is the writer's queue length.
const MaxQueue = maxQueue
