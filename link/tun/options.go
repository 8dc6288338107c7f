package tun

// Options of OpenOptions.
type Options struct {
	// MTU of the device: 0 keeps the device's (1500 for a new one).
	MTU int
	// NoOffload opens the device in plain mode (IFF_TUN|IFF_NO_PI only):
	// bare packets with complete checksums both ways, one per read and
	// write (offloads an earlier descriptor left on a persistent device
	// are turned off). By default Open asks for IFF_VNET_HDR and TUNSETOFFLOAD's
	// checksum and TSO offloads, and falls back to plain mode if the kernel
	// refuses.
	NoOffload bool
}

// Offloads says what a device does, as Device.Offloads reports it.
type Offloads struct {
	// VnetHdr: every packet read or written carries a virtio_net_hdr
	// (IFF_VNET_HDR), so synack can write GSO packets (TCP segments of up
	// to 64 KiB that the kernel cuts at gso_size) and the kernel can
	// leave checksums to complete.
	VnetHdr bool
	// Csum, TSO4, TSO6: TUNSETOFFLOAD took TUN_F_CSUM (the kernel may hand
	// over packets whose checksum is partial, which the device completes),
	// TUN_F_TSO4 and TUN_F_TSO6 (it may hand over TCP packets of up to
	// 64 KiB, which synack takes as one segment each).
	Csum, TSO4, TSO6 bool
}

// Stats counts what a device did.
type Stats struct {
	// PacketsOut and PacketsIn are the packets written and read;
	// SegmentsOut counts the TCP segments in what was written, each GSO
	// packet as the segments the kernel cuts it into.
	PacketsOut, SegmentsOut, PacketsIn uint64
	// GSOOut: packets written as GSO (merged segments); GSOIn: GSO packets
	// the kernel handed over whole (TSO, up to 64 KiB of TCP each).
	GSOOut, GSOIn uint64
	// ChecksumsPartial: received packets whose checksum the kernel left
	// partial (completed by the device unless VerifyChecksums was called).
	ChecksumsPartial uint64
	// BadHeaders: packets read whose virtio_net_hdr did not fit them;
	// BadChecksums: TCP/IPv4 packets read with neither NEEDS_CSUM nor
	// DATA_VALID whose checksum the device found bad; both dropped.
	// WriteErrors: packets the kernel refused.
	BadHeaders, BadChecksums, WriteErrors uint64
	// ChecksumsLeft: lone TCP packets written with their checksum left
	// for the kernel to complete (OffloadChecksums; merged GSO packets,
	// GSOOut, always are).
	ChecksumsLeft uint64
	// EmptyReads: reads that found the device's queue empty (EAGAIN),
	// after which the reader waits: one per wait with ReceiveBursts, two
	// with Receive and TryReceive (Receive reads before it waits).
	EmptyReads uint64
}
