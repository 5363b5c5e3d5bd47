// Package progress reports a long job's progress with an ETA: a live bar
// (schollz/progressbar) on a terminal, and one plain line every 30 seconds
// elsewhere (a log file, CI, a Slurm job), where a bar's carriage returns
// would fill the log with thousands of frames.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar counts steps toward a total. It is safe for concurrent use.
type Bar interface {
	Add(n int)
	Describe(s string)
	Clear()
	Finish()
}

// New returns a bar for total steps written to w (nil = discard), starting
// at done. unit names a step ("step").
func New(w io.Writer, label, unit string, total, done int) Bar {
	if w == nil {
		return &lineBar{w: io.Discard}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b := progressbar.NewOptions(max(total, 1),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(unit),
			progressbar.OptionSetWidth(25),
			progressbar.OptionThrottle(250*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		b.Set(done)
		return &termBar{b: b, label: label}
	}
	return &lineBar{w: w, label: label, unit: unit, total: total, done: done, start: time.Now(), startDone: done, every: 30 * time.Second}
}

type termBar struct {
	mu    sync.Mutex
	b     *progressbar.ProgressBar
	label string
}

func (t *termBar) Add(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Add(n)
}

func (t *termBar) Describe(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Describe(t.label + " " + s)
}

func (t *termBar) Clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Clear()
}

func (t *termBar) Finish() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Finish()
}

// lineBar prints "label: done/total unit (pct), rate, ETA" at most every
// `every`, and once at the end.
type lineBar struct {
	mu                sync.Mutex
	w                 io.Writer
	label, unit, note string
	total, done       int
	start, last       time.Time
	startDone         int
	every             time.Duration
	finished          bool
}

func (l *lineBar) Add(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done += n
	if now := time.Now(); now.Sub(l.last) >= l.every {
		l.last = now
		l.print(now)
	}
}

func (l *lineBar) Describe(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.note = s
}

func (l *lineBar) Clear() {}

func (l *lineBar) Finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.finished && l.total > 0 {
		l.finished = true
		l.print(time.Now())
	}
}

func (l *lineBar) print(now time.Time) {
	elapsed := now.Sub(l.start)
	rate := float64(l.done-l.startDone) / elapsed.Seconds()
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(l.total-l.done)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(l.w, "%s: %d/%d %s (%.0f%%), %.1f %s/s, elapsed %s, ETA %s %s\n", l.label, l.done, l.total, l.unit,
		100*float64(l.done)/float64(max(l.total, 1)), rate, l.unit, elapsed.Round(time.Second), eta, l.note)
}
