// Package interop holds the tests where synack talks to a TCP it did not
// write: the Linux kernel's, through a TUN device in a private network
// namespace (package internal/netns), with curl, ss, nft and tshark as the
// kernel-side tools. The tests need root, /dev/net/tun and those tools; they
// skip, saying what is missing, anywhere else.
//
// Sizes: SYNACK_INTEROP_SIZE (default 100 MiB) is what each clean transfer
// moves; SYNACK_INTEROP_IMPAIRED_SIZE (default 4 MiB) is what each transfer
// over the impaired path (20 ms each way, 2% loss, 5% reordering, 1%
// duplication, and 2% more loss of the kernel's packets by nftables) moves.
// Both accept a plain number of bytes or a number with KiB or MiB.
//
//	sudo go test ./interop -v -run Impaired   # figures in the log
package interop
