// Package tun is a link.Link on a Linux TUN device: synack's packets go to
// the kernel, which routes them like any others, and the kernel's packets to
// the TUN's addresses come back to synack. With it, synack talks to the
// kernel's own TCP and to real tools (curl, a net/http server).
//
// # Offloads
//
// Open asks for IFF_TUN|IFF_NO_PI|IFF_VNET_HDR and, with TUNSETOFFLOAD,
// for TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6 (then fewer, then none), and falls
// back to plain mode (bare packets, IFF_TUN|IFF_NO_PI) if the kernel
// refuses IFF_VNET_HDR; Options.NoOffload asks for plain mode, and
// Device.Offloads says what was granted. In vnet mode every packet read
// and written starts with a struct virtio_net_hdr, and:
//
//   - the kernel may hand over a TCP packet of up to 64 KiB (TSO, its
//     gso_size the MSS), which Receive hands to the stack whole, as one
//     segment, so it is acknowledged as one;
//   - each received TCP checksum is verified once. Once the driver has
//     called VerifyChecksums (link.ChecksumVerifier; the root package's
//     Stack does, and tells its stack not to verify,
//     stack.Config.LinkVerifiesChecksums), a packet whose checksum the
//     kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM: the kernel's own,
//     which nothing between it and synack can corrupt) or has verified
//     (VIRTIO_NET_HDR_F_DATA_VALID) is handed over as is, and any other
//     TCP packet (IPv4 or IPv6) is verified by the device; a partial checksum of any other protocol is completed. Without that call (a
//     wrapper in between) the device completes partial checksums and the
//     stack verifies every packet, as on any link;
//   - the TCP checksums of what synack sends are left to the kernel
//     (OffloadChecksums, link.ChecksumOffloader, which the root package's
//     Stack calls): its stack computes none, and every TCP packet goes to
//     the kernel with the checksum partial (NEEDS_CSUM), which the kernel
//     completes or, delivering it locally, takes as good;
//   - consecutive TCP segments of one connection sent in one burst (see
//     link.Burster) go to the kernel as one GSO packet
//     (VIRTIO_NET_HDR_GSO_TCPV4, gso_size the first segment's payload,
//     checksum partial), which the kernel takes as one skb: one write(2)
//     for up to 64 KiB instead of one per segment. synack's stack builds
//     its segments as on any link; the device merges them.
//
// A capture on the device (tcpdump, tshark) then shows the kernel's
// packets and synack's with partial checksums and synack's merged ones as
// large packets, as a capture on any NIC with offloads does; synack's own
// capture (Config.Recorder, --pcap) shows the TCP checksum field of what
// it sent as the stack left it, zero.
//
// # Reads and writes
//
// Receive blocks; TryReceive takes a packet the kernel has queued
// already. ReceiveBursts, which the stack's reader (internal/rt's Pump)
// uses, reads what is queued, up to a burst, and hands it over (one
// acquisition of the Stack's lock per burst), then waits for the next
// packet in the same wait of the runtime poller: a lone packet costs one
// read that finds nothing (Stats.EmptyReads), where Receive after
// TryReceive costs two, since a new wait forgets what the last one saw
// and must read first. Send copies the packet into a queue
// and returns; a writer goroutine of the device writes the queue in order,
// outside the caller's lock.
//
// The file descriptor is non-blocking and registered with the Go runtime's
// poller, so a Receive blocked in a read returns link.ErrClosed as soon as
// Close is called.
//
// Interface setup (MTU, an address, up) goes through netlink
// (github.com/vishvananda/netlink), never through the ip command.
//
// On systems other than Linux, Open returns an error saying TUN devices are
// only supported on Linux.
package tun
