// Package netsim is a deterministic, impaired network on virtual time. It has no
// goroutines, no locks and no clock of its own: a driver (the simulator in the
// root sim package) hands it the current time with every call and asks it
// when it next needs to be called. The same seed and the same calls give
// byte-identical deliveries and trace events.
//
// A Network joins named hosts, each with an IPv4 address, an IPv6 address
// or both (AddHost, AddAddr). Every ordered pair
// of hosts is a directed path ("client->server"), unimpaired and with zero
// latency until SetPath gives it an Impairment; AddRule attaches scripted
// rules (drop the 2nd SYN-ACK, hold the 1st SYN for 3s). Each path draws its
// randomness from its own PCG stream seeded with the network's seed and a
// hash of the path's name, so configuring or using one path never changes
// what happens on another.
//
// Driving it:
//
//	n := sim.NewNetwork(seed, rec)
//	n.AddHost("client", netip.MustParseAddr("198.18.0.2"))
//	n.AddHost("server", netip.MustParseAddr("198.18.0.1"))
//	n.SetPath("client", "server", netsim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.01})
//	n.Send(now, "client", pkt)                        // copies pkt
//	next := n.NextDeadline()                          // clock.Never when idle
//	n.Poll(next, func(to string, pkt []byte) { ... }) // pkt valid during the call
//
// # What happens to a packet
//
// Send(now, from, pkt) decides a packet's whole fate at once, in this order.
// The random draws are made from the path's stream in the order listed, each
// only when its parameter is non-zero (a Corrupt rule still draws which bit
// to flip), so a path's draws depend only on its own packets.
//
//  0. Admission. The bytes are copied, parsed (wire.ParseIP: IPv4 or IPv6;
//     for TCP also wire.ParseTCPNoChecksum) and routed by their destination
//     address. Like a router, the link requires a sound IP header, with a
//     good IPv4 header checksum, but leaves the upper layer's checksum to
//     the receiver. An unknown sender (trace.LinkUnknownSender), a packet
//     that does not parse (trace.LinkMalformed, "malformed: ...") or a
//     destination no host owns (trace.LinkNoRoute, "no route to
//     198.18.0.9") is dropped with a LinkDrop event whose Host is the
//     sender's name and whose PacketID is 0, and counted by Rejected. The
//     source address is not checked: a host may spoof. Packets of other
//     protocols than TCP (ICMP, ICMPv6, UDP) cross the network as bytes:
//     impaired like any packet, but unseen by the rules (which match TCP
//     segments) and unrecorded (trace has no event for them yet). So do
//     IP fragments, whose header wire.ParseFragment reads: reassembly is
//     the destination's.
//     Then the MTU, when the path has one (Impairment.MTU): a longer packet is
//     dropped (trace.LinkTooBig, "too big: 1500 bytes, MTU 1280"), counted
//     in TooBig, and the path's router sends its source an ICMP
//     Destination Unreachable "fragmentation needed and DF set" with the
//     MTU (RFC 1191 §4), or for IPv6 an ICMPv6 Packet Too Big (RFC 4443
//     §3.2), from DefaultRouter4 or DefaultRouter6 (SetRouterAddrs), on the
//     reverse path with its impairments; counted in ICMPSent. A black hole
//     (ICMPBlackhole) sends nothing; nor does a packet without DF, which
//     the network does not fragment.
//  1. Send. The packet gets the next PacketID of the Network (from 1) and a
//     LinkSend event.
//  2. Rules, in the order they were added. Each rule whose Match fits the
//     segment counts it; the rule fires on its Nth match (every match when
//     Nth is 0). A firing Drop drops the packet (trace.LinkRule, "rule: drop
//     2nd SA") and later rules do not see it. A firing Hold, Duplicate or
//     Corrupt marks the packet for step 6, 7 or 8; only the first firing Hold
//     counts.
//  3. Loss: dropped with probability Loss (trace.LinkLoss, "loss").
//  4. Bottleneck, when Bandwidth > 0. Packets are serialized one at a time,
//     each taking ceil(bytes*8/Bandwidth) and starting when the link is free;
//     the packet leaves when its last bit is sent (store and forward). A packet
//     is waiting from Send until its serialization starts; if QueueLimit
//     packets are already waiting, it is tail-dropped (trace.LinkQueueFull,
//     "queue full"). Without a bottleneck a packet leaves at once.
//  5. Propagation: arrival = departure + Latency + a uniform draw in
//     [0, Jitter), but never earlier than the previous packet's arrival on
//     this path. Jitter therefore never reorders a path: it only spreads the
//     gaps (and on a dense stream the delay drifts towards Latency+Jitter).
//  6. Reordering: with probability Reorder the packet is held back by
//     ReorderDelay (default max(Latency/2, 1ms)) beyond its arrival, without
//     holding back the packets behind it, which may overtake it (LinkHold,
//     "reorder: until T"). Then a rule's Hold: HoldFor > 0 adds HoldFor
//     (LinkHold, "rule: hold 1st S for 3s: until T"); HoldFor == 0 parks the
//     packet until Release(rule name) (LinkHold, "rule: hold 1st S until
//     released").
//  7. Duplication: with probability Duplicate, or when a rule says so, a copy
//     with its own PacketID is made (LinkDuplicate, Dup = the copy's id). The
//     copy shares the departure but draws its own jitter, keeps the path's
//     FIFO order, and is neither reordered nor held.
//  8. Corruption, separately for the packet and its copy: with probability
//     Corrupt (or, for the packet itself, when a rule says so) one uniformly
//     chosen bit of the packet is flipped (LinkCorrupt, Reason names the
//     bit). A single flipped bit always breaks the IPv4 header checksum or
//     the TCP checksum, so a receiver's wire.ParsePacket rejects the packet
//     (a flip in the TCP part is always ErrChecksum; one in the IPv4 header
//     may first fail the version or length checks). Routing is already done:
//     a corrupted destination address still arrives where it was going.
//
// Poll(now, deliver) then hands over every scheduled packet whose arrival is
// at or before now, in order of arrival time, ties broken by the order in
// which packets were scheduled, recording LinkDeliver with At = the arrival
// time. Release(now, rule) schedules the packets that rule parked for
// max(now, the arrival they would have had without the hold): a held packet
// has already crossed the wire and waits at its far end, so Release adds no
// latency.
//
// All events except LinkDeliver are recorded during Send with At = now. For
// Link* events Host is the path name, Local and Remote are the packet's
// source and destination address:port, and Seg is its parsed segment (the
// one that was sent, even for a corrupted delivery).
package netsim
