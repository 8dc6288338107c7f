//go:build linux

package wgtun_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"testing"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link/wgtun"
)

// TestKernelTUN: a synack Stack on a kernel TUN device that wireguard-go's
// tun.CreateTUN opened (with its offloads: virtio-net headers, and the
// kernel's coalesced TCP bursts split into a batch), in a private
// namespace; synack's net/http client POSTs 4 MiB to the kernel's net/http
// server there and gets 4 MiB back.
func TestKernelTUN(t *testing.T) {
	ns := netns.ForTest(t, netns.Options{MTU: 1500, Persist: true})
	// The namespace's persistent device, with its addresses and routes,
	// is reopened by tun.CreateTUN.
	if dev := ns.TUN(); dev != nil {
		dev.Close()
	}
	var dev tun.Device
	var l *wgtun.Link
	if err := ns.Do(func() error {
		var err error
		if dev, err = tun.CreateTUN(ns.TUNName(), 1500); err != nil {
			return err
		}
		// In the namespace: NativeTun asks the kernel for the MTU there.
		if l, err = wgtun.New(dev); err != nil {
			dev.Close()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("tun.CreateTUN: batch size %d, MTU %d", dev.BatchSize(), l.MTU())
	client, err := synack.New(l, synack.Config{Addr: netns.StackAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	ln, err := ns.Listen("tcp", netns.KernelAddr.String()+":8080")
	if err != nil {
		t.Fatal(err)
	}
	const size = 4 << 20
	body := bytes.Repeat([]byte("synack on wireguard-go's TUN\n"), size/29+1)[:size]
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		w.Header().Set("X-Got", fmt.Sprintf("%d %x", n, h.Sum(nil)))
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://"+netns.KernelAddr.String()+":8080/", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if want := fmt.Sprintf("%d %x", size, sum); resp.Header.Get("X-Got") != want {
		t.Fatalf("kernel got %q, want %q", resp.Header.Get("X-Got"), want)
	}
	if len(got) != size || sha256.Sum256(got) != sum {
		t.Fatalf("synack got %d bytes, want %d with the SHA-256 sent", len(got), size)
	}
}
