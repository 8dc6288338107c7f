package capture

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"golang.org/x/sys/unix"
)

// A packet read from a link whose header the kernel takes off (a tunnel:
// SOCK_DGRAM, cooked) gets the Linux cooked header libpcap writes
// (LINKTYPE_LINUX_SLL: packet type, ARPHRD type, address, protocol), and
// decodes to the same segment as it does from Ethernet.
func TestCookedHeader(t *testing.T) {
	f, err := os.Open("testdata/normal.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	eth := c.Packets[0]
	if eth.LinkType != layers.LinkTypeEthernet {
		t.Fatalf("normal.pcap is %v, not Ethernet", eth.LinkType)
	}
	want, _, _, err := decode(&eth)
	if err != nil {
		t.Fatal(err)
	}
	// The socket address holds the protocol as the kernel does: in
	// network byte order.
	ll := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Hatype: unix.ARPHRD_TUNNEL, Pkttype: unix.PACKET_OUTGOING, Halen: 4, Addr: [8]byte{198, 18, 0, 2}}
	b := sllHeader(ll, eth.Data[14:])
	if got := binary.BigEndian.Uint16(b[14:]); got != unix.ETH_P_IP {
		t.Errorf("cooked header's protocol is %#04x, want %#04x (IPv4)", got, unix.ETH_P_IP)
	}
	if got := binary.BigEndian.Uint16(b[0:]); got != unix.PACKET_OUTGOING {
		t.Errorf("cooked header's packet type is %d, want %d (sent)", got, unix.PACKET_OUTGOING)
	}
	if got := binary.BigEndian.Uint16(b[2:]); got != unix.ARPHRD_TUNNEL {
		t.Errorf("cooked header's ARPHRD type is %d, want %d", got, unix.ARPHRD_TUNNEL)
	}
	if got := binary.BigEndian.Uint16(b[4:]); got != 4 || string(b[6:10]) != "\xc6\x12\x00\x02" {
		t.Errorf("cooked header's address is %d bytes % x", got, b[6:14])
	}
	p := Packet{LinkType: layers.LinkTypeLinuxSLL, Data: b, Length: len(b)}
	got, _, sk, err := decode(&p)
	if err != nil || sk != "" || got == nil {
		t.Fatalf("cooked packet decodes to %v, %q, %v", got, sk, err)
	}
	if got.Src != want.Src || got.Dst != want.Dst || got.TCP.Seq != want.TCP.Seq || got.TCP.Flags != want.TCP.Flags {
		t.Errorf("cooked packet decodes to %v>%v seq %v %v, Ethernet to %v>%v seq %v %v",
			got.Src, got.Dst, got.TCP.Seq, got.TCP.Flags, want.Src, want.Dst, want.TCP.Seq, want.TCP.Flags)
	}
}

// htons puts a value in network byte order as the kernel's socket calls
// read it from memory.
func TestHtons(t *testing.T) {
	v := htons(0x0800)
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], v)
	if b != [2]byte{0x08, 0x00} {
		t.Errorf("htons(0x0800) is % x in memory, want 08 00", b)
	}
	if htons(v) != 0x0800 {
		t.Errorf("htons is not its own inverse")
	}
}

// OpenLive names a missing interface, with the interfaces there are.
func TestOpenLiveNoInterface(t *testing.T) {
	_, err := OpenLive("nosuch0")
	if err == nil {
		t.Fatal("OpenLive(nosuch0) opened something")
	}
	if want := `no such network interface "nosuch0" in this network namespace (its interfaces: `; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "lo") {
		t.Errorf("OpenLive(nosuch0): %v; want %q and lo among them", err, want)
	}
}
