//go:build linux

package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// benchNode is a benchmark's helper process: the test binary run again
// with -test.run naming its node test, driven by words on its stdin and
// answering with lines on its stdout that start with its prefix.
type benchNode struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     io.Reader
	lines   chan string
	what    string // "the relay process", in its errors
	release func() // run by stop, once the process has ended
}

// newBenchNode makes the command of a node: this binary running test with
// env added, its stdin and stdout piped. The caller starts cmd (in the
// namespace it chooses) and then calls begin.
func newBenchNode(ctx context.Context, test, what string, env ...string) (*benchNode, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	return &benchNode{cmd: cmd, in: in, out: out, lines: make(chan string, 16), what: what}, nil
}

// begin, once cmd has started, reads the node's lines that start with
// prefix and waits for its "ready"; release is run when it stops.
func (n *benchNode) begin(prefix string, release func()) error {
	n.release = release
	go func() {
		defer close(n.lines)
		sc := bufio.NewScanner(n.out)
		for sc.Scan() {
			if t, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				n.lines <- t
			}
		}
	}()
	if _, err := n.await("ready"); err != nil {
		n.stop()
		return err
	}
	return nil
}

// await waits up to 30 s for the node's next line, which must start with
// word, and returns its fields after it.
func (n *benchNode) await(word string) ([]string, error) {
	select {
	case l, ok := <-n.lines:
		if !ok {
			return nil, fmt.Errorf("%s ended before saying %q", n.what, word)
		}
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != word {
			return nil, fmt.Errorf("%s said %q, want %q", n.what, l, word)
		}
		return f[1:], nil
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("%s did not say %q within 30 s", n.what, word)
	}
}

// ask sends word and returns the numbers of the node's answer.
func (n *benchNode) ask(word string) ([]float64, error) {
	if _, err := fmt.Fprintln(n.in, word); err != nil {
		return nil, err
	}
	f, err := n.await(word)
	if err != nil {
		return nil, err
	}
	v := make([]float64, len(f))
	for i, s := range f {
		if v[i], err = strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("%s's %s: %q", n.what, word, f)
		}
	}
	return v, nil
}

// stop closes the node's stdin, which ends it, and waits up to 30 s
// before killing it.
func (n *benchNode) stop() error {
	n.in.Close()
	errc := make(chan error, 1)
	go func() { errc <- n.cmd.Wait() }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		err = errors.Join(fmt.Errorf("%s did not exit within 30 s of its stdin closing", n.what), <-errc)
	}
	if n.release != nil {
		n.release()
	}
	return err
}
