//go:build race

package interop

// raceEnabled: the tests run under the race detector.
const raceEnabled = true
