// Package fd is a link.Link on a file descriptor that carries IP packets,
// one packet per read and per write: a TUN device's descriptor that another
// program opened and handed over (Android's VpnService.Builder.establish
// gives one; so does a privileged helper passing it over a Unix socket), a
// datagram or sequenced-packet socket (socketpair(2) with SOCK_DGRAM or
// SOCK_SEQPACKET, a connected UDP socket), or two packet-mode pipes
// (pipe2(2) with O_DIRECT), one for each direction (NewPipe).
//
// New takes the descriptor over: it is made non-blocking and registered
// with the Go runtime's poller (os.NewFile), so a Receive waits without
// holding a thread and returns link.ErrClosed as soon as Close is called,
// and Close closes the descriptor. Unlike link/tun, package fd opens and
// configures nothing: the descriptor's owner has set up the device, its
// addresses and its routes.
//
// New refuses what cannot carry packets, saying why: a stream socket or a
// pipe without O_DIRECT (no packet boundaries), an unconnected datagram
// socket, a regular file, a TAP device (Ethernet frames), a TUN device with
// packet-information or virtio-net headers (IFF_NO_PI unset, IFF_VNET_HDR
// set). Each read is one packet: a packet longer than Receive's buffer is
// truncated by the kernel (a TUN device, a datagram socket and a
// packet-mode pipe all drop the rest), as link.Link's contract says.
//
// Send is one non-blocking write: when the descriptor cannot take the
// packet at once (a socket's buffer is full), the packet is dropped and
// counted (Drops), as a full NIC ring drops, rather than blocking the
// stack. TryReceive is one non-blocking read, so the stack takes packets a
// burst at a time.
//
// Package fd is for Linux (Android included); elsewhere New returns an
// error saying so.
package fd
