// Package progress reports transfers: a bar per file with bytes/s (mpb) when
// the output is a terminal, one plain line per finished file otherwise.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Reporter tracks a set of concurrent transfers.
type Reporter interface {
	// Start begins tracking one file of total bytes.
	Start(name string, total int64) Bar
	// Wait flushes the display; call once when every bar is done.
	Wait()
	// Live reports whether the display shows bytes as they move; when it does
	// not, transfers may skip counting (and copy file to socket without
	// passing through user space).
	Live() bool
}

// Bar is one file's transfer.
type Bar interface {
	// Add counts n more bytes (n may restart from a resumed offset with SetCurrent).
	Add(n int64)
	// SetCurrent sets the bytes done so far (for resumed downloads).
	SetCurrent(n int64)
	// Done marks the transfer finished with a status word ("pushed", "exists"...).
	Done(status string)
	// Abort marks the transfer failed.
	Abort(err error)
}

// New picks a bar display when w is a terminal and plain lines otherwise;
// quiet prints nothing.
func New(w io.Writer, quiet bool) Reporter {
	if quiet || w == nil {
		return nop{}
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		// A terminal of unknown or zero width cannot show bars.
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols >= 40 {
			return newBars(w)
		}
	}
	return &plain{w: w}
}

// Plain prints one line per finished file, whatever w is.
func Plain(w io.Writer) Reporter { return &plain{w: w} }

// Bytes formats a size for people (1.5 GiB).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

type nop struct{}

func (nop) Start(string, int64) Bar { return nopBar{} }
func (nop) Wait()                   {}
func (nop) Live() bool              { return false }

type nopBar struct{}

func (nopBar) Add(int64)        {}
func (nopBar) SetCurrent(int64) {}
func (nopBar) Done(string)      {}
func (nopBar) Abort(error)      {}

// plain prints one line per finished file: name, size, status, rate.
type plain struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *plain) Start(name string, total int64) Bar {
	return &plainBar{p: p, name: name, total: total, start: time.Now()}
}
func (p *plain) Wait()      {}
func (p *plain) Live() bool { return false }

type plainBar struct {
	p           *plain
	name        string
	total, done int64
	resumed     int64
	start       time.Time
	mu          sync.Mutex
}

func (b *plainBar) Add(n int64) { b.mu.Lock(); b.done += n; b.mu.Unlock() }
func (b *plainBar) SetCurrent(n int64) {
	b.mu.Lock()
	b.done, b.resumed = n, n
	b.mu.Unlock()
}

func (b *plainBar) Done(status string) {
	b.mu.Lock()
	moved := b.done - b.resumed
	if b.done == 0 {
		// Not counted on the way (zero-copy): the whole file moved.
		moved = b.total - b.resumed
	}
	b.mu.Unlock()
	el := time.Since(b.start)
	line := fmt.Sprintf("%-12s %s (%s)", status, b.name, Bytes(b.total))
	if moved > 0 && el > 0 {
		line += fmt.Sprintf(" %s/s", Bytes(int64(float64(moved)/el.Seconds())))
	}
	if b.resumed > 0 {
		line += fmt.Sprintf(", resumed at %s", Bytes(b.resumed))
	}
	b.p.mu.Lock()
	fmt.Fprintln(b.p.w, line)
	b.p.mu.Unlock()
}

func (b *plainBar) Abort(err error) {
	b.p.mu.Lock()
	fmt.Fprintf(b.p.w, "%-12s %s: %v\n", "failed", b.name, err)
	b.p.mu.Unlock()
}

type bars struct {
	p *mpb.Progress
}

func newBars(w io.Writer, extra ...mpb.ContainerOption) *bars {
	opts := append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(150 * time.Millisecond)}, extra...)
	return &bars{p: mpb.New(opts...)}
}

func (b *bars) Start(name string, total int64) Bar {
	status := new(atomic.Pointer[string])
	empty := ""
	status.Store(&empty)
	bar := b.p.AddBar(total,
		mpb.PrependDecorators(
			decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace | decor.DSyncWidth}),
			// Sizes as the plain lines write them ("264 B", not mpb's "264.0 b").
			decor.Any(func(s decor.Statistics) string { return Bytes(s.Current) + " / " + Bytes(s.Total) }, decor.WCSyncWidth),
		),
		mpb.AppendDecorators(
			decor.OnCompleteMeta(
				decor.OnAbort(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncWidth), "failed"),
				func(string) string { return *status.Load() },
			),
		),
	)
	return &mpbBar{bar: bar, status: status, total: total}
}

func (b *bars) Wait()      { b.p.Wait() }
func (b *bars) Live() bool { return true }

type mpbBar struct {
	bar    *mpb.Bar
	status *atomic.Pointer[string]
	total  int64
}

func (b *mpbBar) Add(n int64)        { b.bar.IncrInt64(n) }
func (b *mpbBar) SetCurrent(n int64) { b.bar.SetCurrent(n) }
func (b *mpbBar) Done(status string) {
	b.status.Store(&status)
	b.bar.SetTotal(b.total, true)
}
func (b *mpbBar) Abort(error) { b.bar.Abort(false) }
