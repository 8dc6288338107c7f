// Package interop holds only tests: the tests where synack talks to a TCP
// it did not write, the Linux kernel's, through a TUN device in a private
// network namespace (package internal/netns). There is nothing to import.
//
// What they check:
//
//   - TestCurlAndGoAPI: curl fetches from and posts to an http.Server on
//     synack's Go API, and synack's client fetches from and posts to a
//     kernel net/http server; the sha256 of what arrives is what was sent.
//   - TestImpaired: the same transfers over a path impaired in both
//     directions (20 ms each way, 2% loss, 5% reordering, 1% duplication
//     by link/impair, and 2% more loss of the kernel's packets by
//     nftables).
//   - TestKernelStates: ss shows the kernel's states through handshake and
//     close, TIME-WAIT on whichever side closed first, and synack's
//     TIME-WAIT acknowledges the kernel's retransmitted FIN.
//   - TestCapture: tshark, capturing on the TUN, decodes the state tests'
//     exchanges and a transfer each way, clean and impaired, with no
//     malformed packet and no bad checksum.
//   - TestCLI: synack netns up, serve, get and netns down, as a user runs
//     them, with curl on the kernel's side.
//   - TestAnyDestination: with Config.AnyDestination, synack accepts what
//     curl dials to addresses and ports it does not own, IPv4 and IPv6.
//   - TestIPv6CLI: curl -6 fetches from and posts to synack serve, and
//     synack get fetches from a kernel server, over IPv6.
//   - TestPing: ping and ping -6 are answered by synack.
//   - TestIPv6KernelStates: ss shows the kernel's states of an IPv6
//     connection.
//   - TestPathMTUKernelRouter: the kernel routes between the TUN's
//     namespace and a second one over a veth of MTU 1280; synack's
//     1500-byte packets get its Fragmentation Needed and Packet Too Big,
//     and a transfer completes with later packets fitting the hop.
//   - TestBlackHoleKernelRouter: the same with the router's ICMP dropped
//     by nftables: synack falls back to a 1024-byte MSS after timeouts.
//
// They need Linux, root (to make the namespace and the TUN device),
// /dev/net/tun, and the kernel-side tools from these Debian packages:
//
//	apt-get install curl iproute2 nftables tshark iputils-ping
//
// (curl; ss and ip from iproute2; nft from nftables; tshark; ping). Anywhere else they
// skip, saying what is missing. Run them as root:
//
//	go test ./interop -v
//
// Sizes: SYNACK_INTEROP_SIZE (default 100 MiB) is what each clean transfer
// moves; SYNACK_INTEROP_IMPAIRED_SIZE (default 4 MiB) is what each transfer
// over the impaired path moves. Both accept a plain number of bytes or a
// number with KiB or MiB.
//
//	sudo go test ./interop -v -run Impaired   # figures in the log
package interop
