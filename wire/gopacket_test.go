package wire

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/seq"
)

// decodeGopacket decodes an IPv4+TCP packet with gopacket's layers.
func decodeGopacket(t *testing.T, b []byte) (*layers.IPv4, *layers.TCP) {
	t.Helper()
	ip := &layers.IPv4{}
	if err := ip.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("gopacket IPv4: %v\n% x", err, b)
	}
	tcp := &layers.TCP{}
	if err := tcp.DecodeFromBytes(ip.Payload, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("gopacket TCP: %v\n% x", err, b)
	}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	return ip, tcp
}

func gopacketFlags(tcp *layers.TCP) Flags {
	var f Flags
	for _, x := range []struct {
		set bool
		f   Flags
	}{{tcp.FIN, FIN}, {tcp.SYN, SYN}, {tcp.RST, RST}, {tcp.PSH, PSH}, {tcp.ACK, ACK}, {tcp.URG, URG}, {tcp.ECE, ECE}, {tcp.CWR, CWR}} {
		if x.set {
			f |= x.f
		}
	}
	return f
}

// Encode with Append, decode with gopacket, compare every field, and check
// the checksums three ways: gopacket's verifiers, and re-serializing
// gopacket's decoded layers with ComputeChecksums, which must reproduce
// our bytes exactly.
func TestGopacketDecodesAppend(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var pkts []Packet
	for _, g := range goldens {
		pkts = append(pkts, g.want)
	}
	for range 2000 {
		pkts = append(pkts, randPacket(r))
	}
	for _, p := range pkts {
		b := p.Append(nil)
		ip, tcp := decodeGopacket(t, b)

		if ip.Version != 4 || ip.IHL != 5 || int(ip.Length) != len(b) || ip.TOS != p.IP.TOS ||
			ip.Id != p.IP.ID || ip.TTL != p.IP.TTL || ip.Protocol != layers.IPProtocolTCP ||
			(ip.Flags&layers.IPv4DontFragment != 0) != p.IP.DontFragment || ip.Flags&layers.IPv4MoreFragments != 0 ||
			ip.FragOffset != 0 || !ip.SrcIP.Equal(net.IP(p.IP.Src.AsSlice())) || !ip.DstIP.Equal(net.IP(p.IP.Dst.AsSlice())) {
			t.Fatalf("gopacket IPv4 %+v\ndoes not match %+v", ip, p.IP)
		}
		s := &p.TCP
		if uint16(tcp.SrcPort) != s.SrcPort || uint16(tcp.DstPort) != s.DstPort || tcp.Seq != uint32(s.Seq) ||
			tcp.Ack != uint32(s.Ack) || gopacketFlags(tcp) != s.Flags || tcp.NS || tcp.Window != s.Window ||
			tcp.Urgent != s.Urgent || int(tcp.DataOffset)*4 != s.HeaderLen() || !bytes.Equal(tcp.Payload, s.Payload) {
			t.Fatalf("gopacket TCP %v\ndoes not match %v", tcp, s)
		}
		compareGopacketOptions(t, tcp.Options, &s.Options)

		if err, res := ip.VerifyChecksum(); err != nil || !res.Valid {
			t.Fatalf("gopacket: IPv4 checksum invalid: %v %+v", err, res)
		}
		if err, res := tcp.VerifyChecksum(); err != nil || !res.Valid {
			t.Fatalf("gopacket: TCP checksum invalid: %v %+v", err, res)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true},
			ip, tcp, gopacket.Payload(tcp.Payload)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Fatalf("gopacket re-serialized with its own checksums\n got % x\nwant % x", buf.Bytes(), b)
		}
	}
}

// compareGopacketOptions checks the options gopacket decoded against o:
// the kinds, in Linux's order, and their values.
func compareGopacketOptions(t *testing.T, got []layers.TCPOption, o *Options) {
	t.Helper()
	type opt struct {
		kind layers.TCPOptionKind
		data []byte
	}
	var want []opt
	if o.HasMSS {
		want = append(want, opt{layers.TCPOptionKindMSS, binary.BigEndian.AppendUint16(nil, o.MSS)})
	}
	if o.SACKPermitted {
		want = append(want, opt{layers.TCPOptionKindSACKPermitted, []byte{}})
	}
	if o.HasTimestamps {
		want = append(want, opt{layers.TCPOptionKindTimestamps, binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, o.TSVal), o.TSEcr)})
	}
	if o.HasWScale {
		want = append(want, opt{layers.TCPOptionKindWindowScale, []byte{o.WScale}})
	}
	if n := fittingSACK(o); n > 0 {
		var d []byte
		for _, blk := range o.SACK[:n] {
			d = binary.BigEndian.AppendUint32(d, uint32(blk.Left))
			d = binary.BigEndian.AppendUint32(d, uint32(blk.Right))
		}
		want = append(want, opt{layers.TCPOptionKindSACK, d})
	}
	var have []opt
	for _, g := range got {
		switch g.OptionType {
		case layers.TCPOptionKindNop:
		case layers.TCPOptionKindEndList:
			t.Fatalf("unexpected EOL in %v", got)
		default:
			if int(g.OptionLength) != 2+len(g.OptionData) {
				t.Fatalf("option %v length %d with %d data bytes", g.OptionType, g.OptionLength, len(g.OptionData))
			}
			have = append(have, opt{g.OptionType, g.OptionData})
		}
	}
	if len(have) != len(want) {
		t.Fatalf("gopacket options %v, want %v", have, want)
	}
	for i := range want {
		if have[i].kind != want[i].kind || !bytes.Equal(have[i].data, want[i].data) {
			t.Fatalf("gopacket option %d = %v, want %v", i, have[i], want[i])
		}
	}
}

// Build packets with gopacket (options in random order, with NOPs, unknown
// options and EOL padding), serialize with its checksums and parse them.
func TestParseGopacketSerialized(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 2000 {
		src, dst := randAddr4(r), randAddr4(r)
		ip := &layers.IPv4{
			Version: 4, TOS: uint8(r.Uint32()), Id: uint16(r.Uint32()), TTL: uint8(r.Uint32()),
			Protocol: layers.IPProtocolTCP, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice()),
		}
		if r.IntN(2) == 0 {
			ip.Flags = layers.IPv4DontFragment
		}
		if r.IntN(4) == 0 {
			ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		tcp := &layers.TCP{
			SrcPort: layers.TCPPort(r.Uint32()), DstPort: layers.TCPPort(r.Uint32()),
			Seq: r.Uint32(), Ack: r.Uint32(), Window: uint16(r.Uint32()), Urgent: uint16(r.Uint32()),
			FIN: r.IntN(2) == 0, SYN: r.IntN(2) == 0, RST: r.IntN(2) == 0, PSH: r.IntN(2) == 0,
			ACK: r.IntN(2) == 0, URG: r.IntN(2) == 0, ECE: r.IntN(2) == 0, CWR: r.IntN(2) == 0,
			NS: r.IntN(2) == 0, // a reserved bit to RFC 9293; ignored
		}
		var want Options
		tcp.Options = randGopacketOptions(r, &want)
		payload := make([]byte, r.IntN(100))
		for i := range payload {
			payload[i] = byte(r.Uint32())
		}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true},
			ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		p, err := ParsePacket(b)
		if err != nil {
			t.Fatalf("ParsePacket of gopacket's packet: %v\n% x", err, b)
		}
		wantPkt := Packet{
			IP: IPv4{TOS: ip.TOS, ID: ip.Id, DontFragment: ip.Flags&layers.IPv4DontFragment != 0, TTL: ip.TTL,
				Protocol: 6, Src: src, Dst: dst},
			TCP: Segment{
				SrcPort: uint16(tcp.SrcPort), DstPort: uint16(tcp.DstPort), Seq: seq.Value(tcp.Seq), Ack: seq.Value(tcp.Ack),
				Flags: gopacketFlags(tcp), Window: tcp.Window, Urgent: tcp.Urgent, Checksum: tcp.Checksum,
				Options: want, Payload: payload,
			},
		}
		if len(payload) == 0 {
			wantPkt.TCP.Payload = nil
		}
		if !pktEqual(p, wantPkt) {
			t.Fatalf("ParsePacket of gopacket's packet\n got %+v\nwant %+v\n% x", p, wantPkt, b)
		}
	}
}

// randGopacketOptions returns at most 40 bytes of options in random order
// and sets want to what ParseTCP must report for them.
func randGopacketOptions(r *rand.Rand, want *Options) []layers.TCPOption {
	var opts []layers.TCPOption
	space := 40
	add := func(o layers.TCPOption) bool {
		n := 1
		if o.OptionType > 1 {
			n = 2 + len(o.OptionData)
			o.OptionLength = uint8(n)
		}
		if n > space {
			return false
		}
		space -= n
		opts = append(opts, o)
		return true
	}
	for _, i := range r.Perm(8) {
		switch i {
		case 0:
			m := uint16(r.Uint32())
			if add(layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionData: binary.BigEndian.AppendUint16(nil, m)}) {
				want.HasMSS, want.MSS = true, m
			}
		case 1:
			w := uint8(r.Uint32())
			if add(layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{w}}) {
				want.HasWScale, want.WScale = true, w
			}
		case 2:
			if add(layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted}) {
				want.SACKPermitted = true
			}
		case 3:
			v, e := r.Uint32(), r.Uint32()
			if add(layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps,
				OptionData: binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, v), e)}) {
				want.HasTimestamps, want.TSVal, want.TSEcr = true, v, e
			}
		case 4:
			n := 1 + r.IntN(4)
			var d []byte
			var blocks [4]SACKBlock
			for j := range n {
				blocks[j] = SACKBlock{seq.Value(r.Uint32()), seq.Value(r.Uint32())}
				d = binary.BigEndian.AppendUint32(d, uint32(blocks[j].Left))
				d = binary.BigEndian.AppendUint32(d, uint32(blocks[j].Right))
			}
			if add(layers.TCPOption{OptionType: layers.TCPOptionKindSACK, OptionData: d}) {
				want.NumSACK, want.SACK = uint8(n), blocks
			}
		case 5:
			// An option synack does not implement: skipped by its length.
			d := make([]byte, r.IntN(6))
			add(layers.TCPOption{OptionType: layers.TCPOptionKind(9 + r.IntN(200)), OptionData: d})
		case 6, 7:
			add(layers.TCPOption{OptionType: layers.TCPOptionKindNop})
		}
	}
	if r.IntN(3) == 0 {
		add(layers.TCPOption{OptionType: layers.TCPOptionKindEndList})
	}
	return opts
}
