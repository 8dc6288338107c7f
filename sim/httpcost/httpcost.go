// Package httpcost is the "http" scenario: the same N requests made three
// ways over one simulated link, to show what TCP's three-way handshake and
// round trips cost HTTP.
//
//   - HTTP/1.0: a connection per request; the server closes after each
//     response, so every request pays a handshake.
//   - HTTP/1.1 keep-alive: one connection, requests one after the other
//     (no pipelining, as Go's and browsers' clients do).
//   - HTTP/2 (h2c, prior knowledge): one connection, all N requests sent at
//     once as streams and answered together.
//
// It runs in package sim's deterministic world (virtual time, seeded link)
// so its output is the same on every run. The hosts run scripted programs,
// not net/http (which needs goroutines and a real clock): the bytes they
// exchange are made by Go's own encoders — http.Request.Write and
// http.Response.Write for HTTP/1.x, golang.org/x/net/http2's Framer and
// HPACK for HTTP/2 — in the order the real protocols send them. The
// package's tests run real net/http over the synack Go API on the same link
// under testing/synctest and check that it opens as many connections.
package httpcost

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Config is what the scenario runs.
type Config struct {
	// Requests is how many requests each mode makes (default 3).
	Requests int
	// RTT is the link's round-trip time: each direction gets half
	// (default 100 ms).
	RTT time.Duration
	// BodySize is the size of each response body in bytes.
	BodySize int
	// Seed seeds the world.
	Seed uint64
	// Link adds impairments (loss, jitter...); its Latency is replaced by
	// RTT/2.
	Link netsim.Impairment
	// MSL for both hosts (default tcp's 30 s); it only moves TIME-WAIT,
	// which happens after the measured time.
	MSL time.Duration
}

func (c *Config) defaults() error {
	if c.Requests == 0 {
		c.Requests = 3
	}
	if c.RTT == 0 {
		c.RTT = 100 * time.Millisecond
	}
	switch {
	case c.Requests < 0 || c.Requests > 1000:
		return fmt.Errorf("requests: %d is out of range (1 to 1000)", c.Requests)
	case c.RTT < 0:
		return fmt.Errorf("rtt: %v is negative", c.RTT)
	case c.BodySize < 0 || c.BodySize > 1<<20:
		return fmt.Errorf("size: %d bytes is out of range (0 to 1 MiB)", c.BodySize)
	}
	c.Link.Latency = c.RTT / 2
	return c.Link.Validate()
}

// Mode names, in the order they run.
const (
	HTTP10    = "HTTP/1.0"
	KeepAlive = "HTTP/1.1 keep-alive"
	HTTP2     = "HTTP/2 (h2c)"
)

// Result is one mode's run.
type Result struct {
	Mode string
	// Handshakes counts the client's SYNs, first transmissions only: one
	// per connection.
	Handshakes int
	// Segments counts the segments both hosts sent, retransmissions
	// included; Retransmits counts those alone.
	Segments, Retransmits int
	// PayloadBytes is the application bytes sent by both hosts (first
	// transmissions); WireBytes is every IPv4 packet's full size.
	PayloadBytes, WireBytes int
	// Time runs from the first SYN to the arrival of the last response
	// byte at the client.
	Time time.Duration
	// Events is the full trace, for ladders.
	Events []trace.Event
	// Problems lists what went wrong (a program that did not finish, bytes
	// that did not arrive).
	Problems []string
}

// Run runs the three modes.
func Run(cfg Config) ([]*Result, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	ex := exchanges(cfg)
	var out []*Result
	for _, m := range []struct {
		name           string
		client, server []sim.Step
	}{
		{HTTP10, ex.http10Client(), ex.http10Server()},
		{KeepAlive, ex.keepAliveClient(), ex.keepAliveServer()},
		{HTTP2, ex.h2Client(), ex.h2Server()},
	} {
		r, err := runMode(cfg, m.name, m.client, m.server)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func runMode(cfg Config, name string, client, server []sim.Step) (*Result, error) {
	log := &trace.Log{}
	w := sim.NewWorld(cfg.Seed, log)
	tc := tcp.Config{MSL: cfg.MSL}
	c, err := w.AddHost("client", sim.ClientAddr, tc)
	if err != nil {
		return nil, err
	}
	s, err := w.AddHost("server", sim.ServerAddr, tc)
	if err != nil {
		return nil, err
	}
	for _, d := range [][2]string{{"client", "server"}, {"server", "client"}} {
		if err := w.Network().SetPath(d[0], d[1], cfg.Link); err != nil {
			return nil, err
		}
	}
	w.Run(s, server...)
	w.Run(c, client...)
	res := w.RunFor(time.Hour)
	r := &Result{Mode: name, Events: log.Events}
	if res.TimedOut {
		r.Problems = append(r.Problems, name+": still running after an hour of virtual time")
	}
	for _, h := range w.Hosts() {
		if err := h.Err(); err != nil {
			r.Problems = append(r.Problems, name+": "+err.Error())
		} else if !h.Done() {
			r.Problems = append(r.Problems, name+": "+h.Name+" did not finish its program")
		}
	}
	for i := range log.Events {
		e := &log.Events[i]
		switch {
		case e.Kind == trace.SegmentOut:
			r.Segments++
			if e.Retransmit {
				r.Retransmits++
			} else {
				r.PayloadBytes += e.PayloadLen
			}
			r.WireBytes += 20 + e.Seg.HeaderLen() + e.PayloadLen
			if e.Host == "client" && e.Seg.Flags&(wire.SYN|wire.ACK) == wire.SYN && !e.Retransmit {
				r.Handshakes++
			}
		case e.Kind == trace.SegmentIn && e.Host == "client" && e.PayloadLen > 0:
			r.Time = e.At.Duration()
		}
	}
	return r, nil
}

// exchange holds the bytes of every request and response.
type exchange struct {
	n                  int
	req10, resp10      [][]byte
	req11, resp11      [][]byte
	h2c1, h2c2         []byte // client: preface, SETTINGS, WINDOW_UPDATE, all HEADERS; then SETTINGS ACK
	h2s1, h2s2         []byte // server: SETTINGS; then SETTINGS ACK and every response
	cumReq11, cumRes11 []int
}

const authority = "198.18.0.1"

func exchanges(cfg Config) *exchange {
	ex := &exchange{n: cfg.Requests}
	body := sim.Pattern(cfg.BodySize)
	for i := 0; i < cfg.Requests; i++ {
		path := "/" + strconv.Itoa(i+1)
		ex.req10 = append(ex.req10, request(path, true))
		ex.req11 = append(ex.req11, request(path, false))
		ex.resp10 = append(ex.resp10, response(body, true))
		ex.resp11 = append(ex.resp11, response(body, false))
	}
	ex.cumReq11, ex.cumRes11 = cumulative(ex.req11), cumulative(ex.resp11)

	// HTTP/2, as Go's client and server open a connection (RFC 9113 §3.4):
	// the client preface, SETTINGS and a connection WINDOW_UPDATE, then the
	// requests; the server's SETTINGS, and after the client's, an ACK.
	var b bytes.Buffer
	b.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&b, nil)
	fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: 4 << 20},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: 10 << 20})
	fr.WriteWindowUpdate(0, 1<<30)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for i := 0; i < cfg.Requests; i++ {
		hb.Reset()
		for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", authority},
			{":path", "/" + strconv.Itoa(i+1)}, {"user-agent", "synack"}, {"accept-encoding", "gzip"}} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	}
	ex.h2c1 = append([]byte(nil), b.Bytes()...)
	b.Reset()
	fr.WriteSettingsAck()
	ex.h2c2 = append([]byte(nil), b.Bytes()...)

	b.Reset()
	fr.WriteSettings(http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20},
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 250},
		http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: 1 << 20})
	ex.h2s1 = append([]byte(nil), b.Bytes()...)
	b.Reset()
	fr.WriteSettingsAck()
	enc = hpack.NewEncoder(&hb)
	for i := 0; i < cfg.Requests; i++ {
		hb.Reset()
		for _, f := range [][2]string{{":status", "200"}, {"content-type", "application/octet-stream"},
			{"content-length", strconv.Itoa(len(body))}} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		id := uint32(2*i + 1)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true, EndStream: len(body) == 0})
		for off := 0; off < len(body); off += 16384 {
			end := min(off+16384, len(body))
			fr.WriteData(id, end == len(body), body[off:end])
		}
	}
	ex.h2s2 = append([]byte(nil), b.Bytes()...)
	return ex
}

func request(path string, http10 bool) []byte {
	req := &http.Request{
		Method: "GET", URL: &url.URL{Path: path}, Host: authority,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"User-Agent": {"synack"}, "Accept-Encoding": {"gzip"}},
	}
	var b bytes.Buffer
	req.Write(&b)
	s := b.String()
	if http10 {
		// Request.Write always writes an HTTP/1.1 request line.
		s = strings.Replace(s, " HTTP/1.1\r\n", " HTTP/1.0\r\n", 1)
	}
	return []byte(s)
}

func response(body []byte, http10 bool) []byte {
	resp := &http.Response{
		StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/octet-stream"}},
		ContentLength: int64(len(body)), Body: httpBody(body),
	}
	if http10 {
		resp.ProtoMinor = 0
		resp.Close = true
	}
	var b bytes.Buffer
	resp.Write(&b)
	return b.Bytes()
}

func cumulative(bs [][]byte) []int {
	out := make([]int, len(bs))
	sum := 0
	for i, b := range bs {
		sum += len(b)
		out[i] = sum
	}
	return out
}

const port = 80

func (ex *exchange) http10Client() []sim.Step {
	var s []sim.Step
	for i := 0; i < ex.n; i++ {
		s = append(s, sim.Connect("server", port), sim.WaitEstablished(), sim.Write(string(ex.req10[i])),
			sim.ReadN(len(ex.resp10[i])), sim.ReadEOF(), sim.Close())
	}
	return s
}

// http10Server answers and closes: the response's end is the connection's.
func (ex *exchange) http10Server() []sim.Step {
	s := []sim.Step{sim.Listen(port)}
	for i := 0; i < ex.n; i++ {
		s = append(s, sim.Accept(), sim.ReadUntil("\r\n\r\n"), sim.Write(string(ex.resp10[i])), sim.Close(), sim.ReadEOF())
	}
	return s
}

func (ex *exchange) keepAliveClient() []sim.Step {
	s := []sim.Step{sim.Connect("server", port), sim.WaitEstablished()}
	for i := 0; i < ex.n; i++ {
		s = append(s, sim.Write(string(ex.req11[i])), sim.ReadN(ex.cumRes11[i]))
	}
	return append(s, sim.Close(), sim.ReadEOF())
}

func (ex *exchange) keepAliveServer() []sim.Step {
	s := []sim.Step{sim.Listen(port), sim.Accept()}
	for i := 0; i < ex.n; i++ {
		s = append(s, sim.ReadN(ex.cumReq11[i]), sim.Write(string(ex.resp11[i])))
	}
	return append(s, sim.ReadEOF(), sim.Close())
}

func (ex *exchange) h2Client() []sim.Step {
	return []sim.Step{sim.Connect("server", port), sim.WaitEstablished(), sim.Write(string(ex.h2c1)),
		sim.ReadN(len(ex.h2s1) + len(ex.h2s2)), sim.Write(string(ex.h2c2)), sim.Close(), sim.ReadEOF()}
}

func (ex *exchange) h2Server() []sim.Step {
	return []sim.Step{sim.Listen(port), sim.Accept(), sim.Write(string(ex.h2s1)), sim.ReadN(len(ex.h2c1)),
		sim.Write(string(ex.h2s2)), sim.ReadN(len(ex.h2c1) + len(ex.h2c2)), sim.ReadEOF(), sim.Close()}
}
