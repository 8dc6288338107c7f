package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	idlePairs  = flag.Int("idle.pairs", 1000, "established connection pairs held open by BenchmarkIdleHeap (BENCHMARKS.md: 10000)")
	manyPairs  = flag.Int("many.pairs", 5000, "established connection pairs held open by BenchmarkIdleMany (BENCHMARKS.md: 100000)")
	idleBudget = flag.Duration("idle.budget", 2*time.Minute, "longest the idle benchmarks spend opening connections; past it they measure the pairs opened so far")
	opTimeout  = flag.Duration("op.timeout", 30*time.Second, "longest any single dial, accept, read or write may block")
	steadyProf = flag.String("steady.memprofile", "", "write a memory profile of every allocation in the timed part of Bulk and PingPong (after the warm-up) to this file; run one benchmark")
)

// procsList is the GOMAXPROCS values the scaling benchmarks run at: 1, 2,
// and the powers of two up to the machine's CPUs, and its CPU count (the
// sub-benchmarks above it skip).
func procsList() []int {
	ps := []int{1, 2}
	for p := 4; p <= runtime.NumCPU(); p *= 2 {
		ps = append(ps, p)
	}
	if n := runtime.NumCPU(); n > ps[len(ps)-1] {
		ps = append(ps, n)
	}
	return ps
}

// withProcs runs fn as the sub-benchmark procs=P for each of procsList,
// with GOMAXPROCS set to P (and restored after).
func withProcs(b *testing.B, prefix string, fn func(b *testing.B)) {
	for _, procs := range procsList() {
		b.Run(fmt.Sprintf("%sprocs=%d", prefix, procs), func(b *testing.B) {
			if procs > runtime.NumCPU() {
				b.Skipf("%d CPUs", runtime.NumCPU())
			}
			old := runtime.GOMAXPROCS(procs)
			defer runtime.GOMAXPROCS(old)
			fn(b)
		})
	}
}

// Warm-up rounds of Bulk and PingPong: the warm-up ends when growth has
// ended, not after a fixed amount. It runs in rounds (warmRoundMiB of
// bulk, warmRoundRTs round trips) and ends after a round that allocated
// no heap object at all (synack's steady state: windows, rings, queues and
// pools have reached their size), or, for a stack that allocates per
// packet (gVisor), a round that allocated at least one object per MiB or
// round trip and within a tenth of what the round before it did. At least
// warmMinRounds rounds; after warmMaxRounds the timed part starts anyway,
// and counts what still grows.
const (
	warmRoundMiB  = 8
	warmRoundRTs  = 1000
	warmMinRounds = 2
	warmMaxRounds = 64
)

// warmUp runs round until growth has ended (see warmRoundMiB; perPacket is
// the allocations per round at which a stack counts as allocating per
// packet) and returns the rounds it ran.
func warmUp(b *testing.B, perPacket uint64, round func()) int {
	var prev uint64
	for r := 1; ; r++ {
		m0 := memStats(false)
		round()
		m1 := memStats(false)
		n := m1.Mallocs - m0.Mallocs
		diff := max(n, prev) - min(n, prev)
		steady := n == 0 || (r > 1 && n >= perPacket && 10*diff <= prev)
		if (r >= warmMinRounds && steady) || r == warmMaxRounds {
			return r
		}
		prev = n
	}
}

// steadyProfile starts, when -steady.memprofile is set, a memory profile
// of every allocation from now on (runtime.MemProfileRate 1, having been
// 0 since noProfile: the warm-up is left out); the function it returns
// stops it and writes the profile to the file, and what the profile held
// at noProfile to the file with ".base" appended:
// `go tool pprof -sample_index=alloc_objects -diff_base FILE.base bench.test FILE`
// shows the timed part's allocations alone.
func steadyProfile(b *testing.B) func() {
	if *steadyProf == "" {
		return func() {}
	}
	stop := func() {
		runtime.MemProfileRate = 0
		writeAllocs(b, *steadyProf)
		if err := os.WriteFile(*steadyProf+".base", profBase, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	runtime.MemProfileRate = 1
	return stop
}

// profBase is the allocation profile as noProfile found it.
var profBase []byte

// noProfile turns memory profiling off until steadyProfile, when
// -steady.memprofile is set, and keeps the profile so far (profBase).
func noProfile(b *testing.B) {
	if *steadyProf == "" {
		return
	}
	runtime.MemProfileRate = 0
	f, err := os.CreateTemp("", "steady")
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	defer os.Remove(f.Name())
	writeAllocs(b, f.Name())
	if profBase, err = os.ReadFile(f.Name()); err != nil {
		b.Fatal(err)
	}
}

// writeAllocs writes the allocation profile to file. The Go runtime
// publishes allocations a cycle or two after they were made, hence the
// collections first.
func writeAllocs(b *testing.B, file string) {
	runtime.GC()
	runtime.GC()
	runtime.GC()
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// forEachStack runs fn as a sub-benchmark "stack=NAME" for every stack,
// each on a fresh client and server joined by a link of the given MTU.
func forEachStack(b *testing.B, mtu int, fn func(b *testing.B, st Stack, env *Env)) {
	for _, st := range Stacks {
		b.Run("stack="+st.Name, func(b *testing.B) {
			env, err := st.New(mtu)
			if err != nil {
				b.Fatal(err)
			}
			defer env.Close()
			fn(b, st, env)
		})
	}
}

// memStats is runtime.ReadMemStats after a collection.
func memStats(gc bool) runtime.MemStats {
	if gc {
		runtime.GC()
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

// connPair opens a connection from the client to ln and accepts it.
func connPair(env *Env, ln net.Listener) (client, server net.Conn, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), *opTimeout)
	defer cancel()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	client, err = env.Dial(ctx, ln)
	if err != nil {
		ln.Close() // unblocks the Accept
		<-ch
		return nil, nil, fmt.Errorf("dial: %w", err)
	}
	select {
	case a := <-ch:
		if a.err != nil {
			client.Close()
			return nil, nil, fmt.Errorf("accept: %w", a.err)
		}
		return client, a.c, nil
	case <-time.After(*opTimeout):
		client.Close()
		ln.Close()
		<-ch
		return nil, nil, errors.New("accept: timed out")
	}
}

// BenchmarkBulk measures the throughput of one connection: each operation
// writes 1 MiB from the client, and the clock stops once the server has
// read every byte (run with -benchtime 256x for 256 MiB). allocs/segment
// counts every segment both hosts sent, ACKs included.
func BenchmarkBulk(b *testing.B) {
	for _, mtu := range []int{1500, 65535} {
		b.Run(fmt.Sprintf("mtu=%d", mtu), func(b *testing.B) {
			forEachStack(b, mtu, benchBulk)
		})
	}
}

// establish opens one connection on env; done closes it and its listener.
func establish(b *testing.B, env *Env) (c, s net.Conn, done func()) {
	ln, err := env.Listen(0)
	if err != nil {
		b.Fatal(err)
	}
	c, s, err = connPair(env, ln)
	if err != nil {
		ln.Close()
		b.Fatal(err)
	}
	return c, s, func() { c.Close(); s.Close(); ln.Close() }
}

func benchBulk(b *testing.B, _ Stack, env *Env) {
	const chunk = 1 << 20
	noProfile(b)
	c, s, closeConn := establish(b, env)
	defer closeConn()
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	var readSoFar atomic.Int64
	go func() {
		buf := make([]byte, 256<<10)
		var n int64
		for {
			m, err := s.Read(buf)
			n += int64(m)
			readSoFar.Store(n)
			if err == io.EOF {
				done <- result{n, nil}
				return
			}
			if err != nil {
				done <- result{n, err}
				return
			}
		}
	}()
	buf := make([]byte, chunk)
	deadline := time.Now().Add(*opTimeout + time.Duration(b.N)*time.Second)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	b.SetBytes(chunk)
	b.ReportAllocs()
	// Warm up to the steady state: the windows and buffers grow, pools
	// fill, until a round of warmRoundMiB allocates no fewer objects than
	// the rounds before it (warmUp). Those bytes are read before the clock
	// and the allocation count start.
	var written int64
	rounds := warmUp(b, warmRoundMiB, func() {
		for range warmRoundMiB {
			if _, err := c.Write(buf); err != nil {
				b.Fatalf("warm-up write: %v", err)
			}
		}
		written += warmRoundMiB * chunk
		for readSoFar.Load() < written {
			if time.Now().After(deadline) {
				b.Fatalf("warm-up: server read %d of %d bytes by the deadline", readSoFar.Load(), written)
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	stopProfile := steadyProfile(b)
	var seg0 uint64
	if env.Segments != nil {
		seg0 = env.Segments()
	}
	m0 := memStats(false)
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(buf); err != nil {
			b.Fatalf("write: %v", err)
		}
	}
	var err error
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		err = cw.CloseWrite()
	} else {
		err = c.Close()
	}
	if err != nil {
		b.Fatalf("close: %v", err)
	}
	r := <-done
	b.StopTimer()
	reportCPU(b, cpu0, int64(b.N)*chunk)
	m1 := memStats(false)
	stopProfile()
	if r.err != nil {
		b.Fatalf("read: %v", r.err)
	}
	if want := written + int64(b.N)*chunk; r.n != want {
		b.Fatalf("server read %d bytes, client wrote %d", r.n, want)
	}
	if env.Segments != nil {
		if segs := env.Segments() - seg0; segs > 0 {
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(segs), "allocs/segment")
			b.ReportMetric(float64(segs)/float64(b.N), "segments/op")
		}
	}
	b.ReportMetric(float64(rounds*warmRoundMiB), "warm-MiB")
}

// BenchmarkConnRate measures connections opened and closed: in each
// operation a worker dials, accepts a connection (not necessarily its own,
// when several work at once), closes its client side, reads the accepted
// connection to EOF and closes it. workers=1 is sequential; workers=16 runs
// sixteen such loops at once.
func BenchmarkConnRate(b *testing.B) {
	for _, w := range []int{1, 16} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			forEachStack(b, 1500, func(b *testing.B, _ Stack, env *Env) { benchConnRate(b, env, w) })
		})
	}
}

func benchConnRate(b *testing.B, env *Env, workers int) {
	ln, err := env.Listen(0)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() {
			firstErr = err
			ln.Close() // unblocks every Accept; later Dials fail
		})
	}
	one := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), *opTimeout)
		defer cancel()
		c, err := env.Dial(ctx, ln)
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		defer c.Close()
		s, err := ln.Accept()
		if err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		defer s.Close()
		if err := c.Close(); err != nil {
			return fmt.Errorf("close client: %w", err)
		}
		s.SetReadDeadline(time.Now().Add(*opTimeout))
		var one [1]byte
		if n, err := s.Read(one[:]); err != io.EOF {
			return fmt.Errorf("server read %d bytes, %v; want EOF", n, err)
		}
		if err := s.Close(); err != nil {
			return fmt.Errorf("close server: %w", err)
		}
		return nil
	}
	b.ReportAllocs()
	m0 := memStats(false)
	b.ResetTimer()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := one(); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	m1 := memStats(false)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conn/s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/conn")
}

// BenchmarkConnRateConcurrent is BenchmarkConnRate's workers=16 with
// GOMAXPROCS 1 and 2 (and up to the machine's CPUs, as
// BenchmarkBulkConcurrent): does the connection rate of 16 concurrent
// dialers use a second core?
func BenchmarkConnRateConcurrent(b *testing.B) {
	const workers = 16
	withProcs(b, fmt.Sprintf("workers=%d/", workers), func(b *testing.B) {
		forEachStack(b, 1500, func(b *testing.B, _ Stack, env *Env) { benchConnRate(b, env, workers) })
	})
}

// BenchmarkPingPong measures one-byte round trips on one connection: the
// client writes a byte, the server echoes it, the client reads it.
func BenchmarkPingPong(b *testing.B) {
	forEachStack(b, 1500, benchPingPong)
}

func benchPingPong(b *testing.B, _ Stack, env *Env) {
	noProfile(b)
	c, s, closeConn := establish(b, env)
	defer closeConn()
	deadline := time.Now().Add(*opTimeout + time.Duration(b.N)*time.Millisecond)
	c.SetDeadline(deadline)
	s.SetDeadline(deadline)
	echoed := make(chan error, 1)
	go func() {
		var buf [1]byte
		for {
			if _, err := io.ReadFull(s, buf[:]); err != nil {
				if err == io.EOF {
					err = nil
				}
				echoed <- err
				return
			}
			if _, err := s.Write(buf[:]); err != nil {
				echoed <- err
				return
			}
		}
	}()
	buf := []byte{'x'}
	// Warm up to the steady state: the first round trips fill pools,
	// until a round of warmRoundRTs allocates no fewer objects than the
	// rounds before it (warmUp).
	rounds := warmUp(b, warmRoundRTs, func() {
		for range warmRoundRTs {
			if _, err := c.Write(buf); err != nil {
				b.Fatalf("warm-up write: %v", err)
			}
			if _, err := io.ReadFull(c, buf); err != nil {
				b.Fatalf("warm-up read: %v", err)
			}
		}
	})
	var seg0 uint64
	if env.Segments != nil {
		seg0 = env.Segments()
	}
	b.ReportAllocs()
	stopProfile := steadyProfile(b)
	m0 := memStats(false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(buf); err != nil {
			b.Fatalf("write: %v", err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatalf("read: %v", err)
		}
	}
	b.StopTimer()
	m1 := memStats(false)
	stopProfile()
	c.Close()
	if err := <-echoed; err != nil {
		b.Fatalf("echo: %v", err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
	b.ReportMetric(float64(rounds*warmRoundRTs), "warm-rt")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(b.N), "allocs/rt")
	if env.Segments != nil {
		if segs := env.Segments() - seg0; segs > 0 {
			b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(segs), "allocs/segment")
		}
	}
}

// BenchmarkIdleHeap holds -idle.pairs established connection pairs open
// and reports the Go heap each pair takes (both ends: both hosts are in
// this process). For the kernel only the Go side (net.Conn, poller) is
// counted, not the kernel's socket memory.
func BenchmarkIdleHeap(b *testing.B) {
	b.Run(fmt.Sprintf("pairs=%d", *idlePairs), func(b *testing.B) {
		for _, st := range Stacks {
			b.Run("stack="+st.Name, func(b *testing.B) { benchIdle(b, st, *idlePairs, 1) })
		}
	})
}

// BenchmarkIdleMany is BenchmarkIdleHeap with -many.pairs pairs, spread
// over several server ports since one client address has only 28,232
// ephemeral ports (32768-60999) per server port. It reports the total
// heap in MiB as well. The kernel is skipped where the process's file
// descriptor limit cannot hold two descriptors per pair.
func BenchmarkIdleMany(b *testing.B) {
	n := *manyPairs
	b.Run(fmt.Sprintf("pairs=%d", n), func(b *testing.B) {
		for _, st := range Stacks {
			b.Run("stack="+st.Name, func(b *testing.B) { benchIdle(b, st, n, (n+19999)/20000) })
		}
	})
}

func benchIdle(b *testing.B, st Stack, pairs, listeners int) {
	if st.Name == "kernel" {
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && uint64(2*pairs+100) > lim.Cur {
			b.Skipf("%d pairs need %d file descriptors; RLIMIT_NOFILE is %d (hard %d)", pairs, 2*pairs+100, lim.Cur, lim.Max)
		}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		idleOnce(b, st, pairs, listeners)
	}
}

// idleOnce opens the pairs on fresh hosts, measures, and tears the hosts
// down with the clock stopped: the hosts first (a synack or gVisor stack
// aborts all its connections at once), then each Conn (the kernel's
// sockets, whose Close is all there is).
func idleOnce(b *testing.B, st Stack, pairs, listeners int) {
	b.StopTimer()
	env, err := st.New(1500)
	if err != nil {
		b.Fatal(err)
	}
	var conns []net.Conn
	defer func() {
		b.StopTimer()
		env.Close()
		for _, c := range conns {
			c.Close()
		}
		b.StartTimer()
	}()
	lns := make([]net.Listener, listeners)
	for i := range lns {
		ln, err := env.Listen(i)
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		lns[i] = ln
	}
	conns = make([]net.Conn, 0, 2*pairs)
	m0 := memStats(true)
	b.StartTimer()
	stop := time.Now().Add(*idleBudget)
	opened := 0
	for opened < pairs && time.Now().Before(stop) {
		c, s, err := connPair(env, lns[opened%listeners])
		if err != nil {
			b.Fatalf("pair %d: %v", opened, err)
		}
		conns = append(conns, c, s)
		opened++
	}
	b.StopTimer()
	if opened < pairs {
		b.Logf("opened %d of %d pairs within -idle.budget %v; figures are over the pairs opened", opened, pairs, *idleBudget)
	}
	time.Sleep(100 * time.Millisecond) // let the last ACKs land
	m1 := memStats(true)
	runtime.KeepAlive(conns)
	n := float64(opened)
	b.ReportMetric(n, "pairs")
	b.ReportMetric((float64(m1.HeapAlloc)-float64(m0.HeapAlloc))/n, "B/pair")
	b.ReportMetric((float64(m1.HeapInuse)-float64(m0.HeapInuse))/n, "inuse-B/pair")
	b.ReportMetric((float64(m1.StackInuse)-float64(m0.StackInuse))/n, "stack-B/pair")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/pair")
	b.ReportMetric((float64(m1.HeapInuse)-float64(m0.HeapInuse))/(1<<20), "heap-MiB")
}

// BenchmarkBulkConcurrent measures the aggregate throughput of 64
// connections through one pair of hosts, with GOMAXPROCS 1 and 2, and the
// powers of two up to the machine's CPUs (the sub-benchmark procs=P sets
// it, and restores it after): does the stack use a second core? Each operation moves 64 KiB on every connection
// (4 MiB in all), each connection written by a goroutine of its own and
// read by another; the clock stops when the server has read every byte.
func BenchmarkBulkConcurrent(b *testing.B) {
	const conns = 64
	withProcs(b, fmt.Sprintf("conns=%d/", conns), func(b *testing.B) {
		forEachStack(b, 1500, func(b *testing.B, _ Stack, env *Env) { benchBulkConcurrent(b, env, conns) })
	})
}

func benchBulkConcurrent(b *testing.B, env *Env, conns int) {
	const chunk = 64 << 10
	ln, err := env.Listen(0)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	cs := make([]net.Conn, 0, conns)
	ss := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range cs {
			c.Close()
		}
		for _, s := range ss {
			s.Close()
		}
	}()
	for range conns {
		c, s, err := connPair(env, ln)
		if err != nil {
			b.Fatal(err)
		}
		cs, ss = append(cs, c), append(ss, s)
	}
	deadline := time.Now().Add(*opTimeout + time.Duration(b.N)*time.Second)
	buf := make([]byte, chunk)
	b.SetBytes(int64(conns) * chunk)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, 2*conns)
	for i := range conns {
		c, s := cs[i], ss[i]
		c.SetDeadline(deadline)
		s.SetDeadline(deadline)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					errs <- fmt.Errorf("write: %w", err)
					return
				}
			}
			if cw, ok := c.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			} else {
				c.Close()
			}
		}()
		go func() {
			defer wg.Done()
			n, err := io.Copy(io.Discard, s)
			if err != nil {
				errs <- fmt.Errorf("read: %w", err)
			} else if want := int64(b.N) * chunk; n != want {
				errs <- fmt.Errorf("server read %d bytes, want %d", n, want)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	reportCPU(b, cpu0, int64(b.N)*int64(conns)*chunk)
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU seconds the process used per GiB moved since
// cpu0: both hosts are in the process, so it is what the transfer cost
// them both (for the kernel, only the Go side and the system calls' share
// that is charged to the process). On a shared machine it drifts less
// than MB/s does: waiting for a core costs wall time, not CPU time.
func reportCPU(b *testing.B, cpu0 time.Duration, bytes int64) {
	if d := cpuTime() - cpu0; cpu0 != 0 && bytes > 0 {
		b.ReportMetric(d.Seconds()/(float64(bytes)/(1<<30)), "cpu-s/GiB")
	}
}
