package synack

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func forwardPair(t *testing.T) (proxy, client *Stack) {
	t.Helper()
	a, b := pipe()
	proxy, err := New(a, Config{Addr: netip.MustParseAddr("198.18.0.1"), AnyDestination: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	client, err = New(b, Config{Addr: netip.MustParseAddr("198.18.0.2"), Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); proxy.Close() })
	return proxy, client
}

// The handler sees the original destination before the client's dial
// completes; Complete gives an established Conn whose LocalAddr is that
// destination; a refusal with RST is "connection refused" to the client,
// one with ICMP administratively prohibited is EHOSTUNREACH (a hard error,
// RFC 5461 §2; synack's TCP, following RFC 1122 §4.2.3.9, takes host
// unreachable as soft and retries, where Linux gives up at once in
// SYN-SENT).
func TestForwardTCPGoAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		proxy, client := forwardPair(t)
		seen := make(chan netip.AddrPort, 4)
		_, err := proxy.ForwardTCP(0, 0, func(r *TCPRequest) {
			seen <- r.Destination()
			switch r.Destination().Port() {
			case 80:
				c, err := r.Complete(context.Background())
				if err != nil {
					t.Errorf("Complete: %v", err)
					return
				}
				if c.LocalAddr().String() != r.Destination().String() {
					t.Errorf("LocalAddr %v, want %v", c.LocalAddr(), r.Destination())
				}
				io.Copy(c, c)
				c.Close()
			case 81:
				if err := r.Refuse(RefuseReset); err != nil {
					t.Errorf("Refuse: %v", err)
				}
			case 82:
				time.Sleep(10 * time.Millisecond) // a slow dial, then a refusal
				r.Refuse(RefuseProhibited)
			case 83:
				// returns undecided: refused with a RST
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.Dial("tcp", "198.19.7.7:80")
		if err != nil {
			t.Fatal(err)
		}
		if d := <-seen; d.String() != "198.19.7.7:80" {
			t.Fatalf("handler saw %v", d)
		}
		c.Write([]byte("ping"))
		c.(*Conn).CloseWrite()
		b, err := io.ReadAll(c)
		if err != nil || string(b) != "ping" {
			t.Fatalf("echo: %q, %v", b, err)
		}
		c.Close()
		for _, tc := range []struct {
			addr string
			want syscall.Errno
		}{{"198.19.7.7:81", syscall.ECONNREFUSED}, {"198.19.7.7:82", syscall.EHOSTUNREACH}, {"[::ffff:198.19.7.8]:83", syscall.ECONNREFUSED}} {
			if _, err := client.Dial("tcp", tc.addr); !errors.Is(err, tc.want) {
				t.Errorf("dial %s: %v, want %v", tc.addr, err, tc.want)
			}
			<-seen
		}
	})
}

// A handler that takes longer than the timeout finds its request expired;
// the client's retransmitted SYN is a new request, which the next call
// completes.
func TestForwardTCPTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		proxy, client := forwardPair(t)
		calls := 0
		errs := make(chan error, 1)
		fw, err := proxy.ForwardTCP(4, 500*time.Millisecond, func(r *TCPRequest) {
			calls++
			if calls == 1 {
				time.Sleep(time.Until(r.Deadline()) + time.Millisecond)
				_, err := r.Complete(context.Background())
				errs <- err
				return
			}
			if c, err := r.Complete(context.Background()); err == nil {
				c.Close()
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := client.Dial("tcp", "198.19.7.7:80")
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if err := <-errs; err == nil {
			t.Fatal("Complete after the deadline succeeded")
		}
		if st := fw.Stats(); st.Requests != 2 || st.Expired != 1 || st.Completed != 1 || calls != 2 {
			t.Fatalf("stats %+v after %d calls; want 2 requests, 1 expired, 1 completed", st, calls)
		}
	})
}
