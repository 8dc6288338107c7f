package capture

import (
	"io"
	"time"
)

// NewLiveWriter starts a pcapng file on w that captures at host alone, for
// a stack running in real time whose clock (clock.Real) started at start:
// time t is written as start+t, so the file has wall-clock times. Tap it
// with each packet of the stack's link at the time of the stack's step
// that sent or received it, as the Time of the events recorded in that
// step; Writer is not safe for concurrent use.
func NewLiveWriter(w io.Writer, host string, start time.Time) (*Writer, error) {
	cw, err := newWriter(w, start, "synack on a live link: wall-clock time", host)
	if err != nil {
		return nil, err
	}
	cw.point = host
	return cw, nil
}
