package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

// colorMode is --color: auto, always or never.
type colorMode string

func (c *colorMode) String() string { return string(*c) }

func (c *colorMode) Set(s string) error {
	switch s {
	case "auto", "always", "never":
		*c = colorMode(s)
		return nil
	}
	return fmt.Errorf("%q is not auto, always or never", s)
}

func (c *colorMode) Type() string { return "when" }

// renderFlags choose how the ladder is drawn besides the terminal text.
type renderFlags struct {
	svg, html string
	color     colorMode
	// events are the trace events the diagram was drawn from, for the
	// plot beside the ladder on the HTML page (the sender's Metrics);
	// nil for a capture, whose plot infers what it can from the segments.
	events []trace.Event
}

func (f *renderFlags) register(fs *pflag.FlagSet) {
	f.color = "auto"
	fs.StringVar(&f.svg, "svg", "", "also draw the ladder as an SVG picture into this file")
	fs.StringVar(&f.html, "html", "", "also write a self-contained HTML page into this file that steps through the exchange, with the connection's plot beside the ladder")
	fs.Var(&f.color, "color", "colour the ladder: auto (only on a terminal, and not if NO_COLOR is set), always or never")
}

// colored reports whether the text for w gets colours.
func (f *renderFlags) colored(w io.Writer) bool {
	switch f.color {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	file, ok := w.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// writeFiles writes the SVG and HTML files asked for of scenario s's run.
func (f *renderFlags) writeFiles(d *ladder.Diagram, s *sim.Scenario, seed uint64, l i18n.Lang) error {
	return f.write(d, l.Trf("%s (scenario %s, seed %d)", s.TitleIn(l), s.Name, seed), s.CaptionIn(l))
}

// files reports whether an SVG or HTML file is asked for.
func (f *renderFlags) files() bool { return f.svg != "" || f.html != "" }

// write writes the SVG and HTML files asked for of d, titled title; the
// page has caption under its title.
func (f *renderFlags) write(d *ladder.Diagram, title, caption string) error {
	if f.svg != "" {
		if err := writeFile("--svg", f.svg, func(w io.Writer) error {
			return ladder.WriteSVG(w, d, ladder.SVGOptions{Title: title})
		}); err != nil {
			return err
		}
	}
	if f.html != "" {
		// The page shows the plot beside the ladder, linked to it.
		var svg string
		if len(d.Packets) > 0 { // else there is nothing to plot
			var err error
			if svg, err = plotSVG(d, f.events, title, f.events == nil); err != nil {
				return fmt.Errorf("--html %s: plotting the connection: %w", f.html, err)
			}
		}
		if err := writeFile("--html", f.html, func(w io.Writer) error {
			return ladder.WriteHTML(w, d, ladder.HTMLOptions{Title: title, Caption: caption, Plot: svg})
		}); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes a file whole or not at all: into a temporary file
// beside it, renamed into place when complete.
func writeFile(flag, name string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return usageError{fmt.Errorf("%s %s: %w", flag, name, err)}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("%s %s: %w", flag, name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("%s %s: %w", flag, name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s %s: %w", flag, name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("%s %s: %w", flag, name, err)
	}
	return nil
}
