//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyCounters returns a channel that gets SIGUSR1, and its stop.
func notifyCounters() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	return ch, func() { signal.Stop(ch) }
}
