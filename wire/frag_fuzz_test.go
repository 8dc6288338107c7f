package wire

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseFragment: on any bytes ParseFragment never panics; it succeeds
// exactly when ParseIP succeeds or fails with ErrFragment, its Data is the
// packet's tail from DataOff, and HeaderChainIn never panics on a first
// fragment's data.
func FuzzParseFragment(f *testing.F) {
	ip := IPv4{ID: 7, Protocol: ProtocolUDP, Src: fragSrc4, Dst: fragDst4}
	f.Add(append(ip.AppendFragment(nil, 16, 8, true), make([]byte, 16)...))
	h6 := IPv6{NextHeader: ProtocolUDP, Src: fragSrc6, Dst: fragDst6}
	f.Add(append(h6.AppendFragment(nil, 16, 0, true, 9), make([]byte, 16)...))
	f.Add(append(h6.AppendFragment(nil, 8, 1448, false, 9), make([]byte, 8)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, perr := ParseIP(b)
		fr, err := ParseFragment(b)
		wantOK := perr == nil || errors.Is(perr, ErrFragment)
		if (err == nil) != wantOK {
			t.Fatalf("ParseIP: %v; ParseFragment: %v", perr, err)
		}
		if err != nil {
			return
		}
		if errors.Is(perr, ErrFragment) && (fr.DataOff > len(b) || !bytes.Equal(fr.Data, b[fr.DataOff:])) {
			t.Fatalf("Data is not the packet from DataOff %d", fr.DataOff)
		}
		if fr.Offset%8 != 0 || fr.Offset > 0xfff8 {
			t.Fatalf("offset %d", fr.Offset)
		}
		if fr.Offset == 0 && fr.IP.Version == 6 {
			HeaderChainIn(fr.IP.V6.NextHeader, fr.Data)
		}
	})
}
