// Package bench measures synack side by side with gVisor's netstack and the
// Linux kernel. It is a Go module of its own so that the main module never
// depends on gVisor.
//
// Every benchmark family takes the stack as its last sub-benchmark key
// (BenchmarkBulk/mtu=1500/stack=synack, .../stack=gvisor, .../stack=kernel),
// so that `benchstat -col /stack` prints the three side by side, and the
// same code drives all three through net.Listener and net.Conn:
//
//   - synack: two synack.Stacks joined by Pipe, a pair of in-memory links
//     (a buffered channel each way, pooled packet buffers); each Stack's own
//     reader goroutine is the pump.
//   - gvisor: two gVisor stacks, each on a link/channel endpoint, with one
//     goroutine each way pumping packets from one endpoint into the other,
//     driven through the gonet adapter.
//   - kernel: net.Listen and net.Dial on 127.0.0.1.
//
// See BENCHMARKS.md at the repository root for the method and the figures,
// and run.sh beside this file to reproduce them.
package bench
