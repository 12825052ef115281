package download

import (
	"io"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Bars shows one progress bar per file on w (a terminal).
type Bars struct{ p *mpb.Progress }

// NewBars starts drawing on w; call Wait when the downloads are over.
func NewBars(w io.Writer) *Bars {
	return &Bars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32))}
}

// Track adds a bar for one file.
func (b *Bars) Track(name string, total int64) Tracker {
	if total < 0 {
		total = 0
	}
	bar := b.p.AddBar(total,
		mpb.PrependDecorators(decor.Name(name, decor.WC{C: decor.DindentRight | decor.DextraSpace})),
		mpb.AppendDecorators(decor.CountersKibiByte("% .1f / % .1f"), decor.Name(" "), decor.AverageSpeed(decor.SizeB1024(0), "% .1f")),
	)
	return &barTracker{bar: bar, total: total}
}

// Wait flushes the bars.
func (b *Bars) Wait() { b.p.Wait() }

type barTracker struct {
	bar   *mpb.Bar
	total int64
}

func (t *barTracker) Add(n int) { t.bar.IncrBy(n) }

func (t *barTracker) Done(err error) {
	if err != nil {
		t.bar.Abort(false)
		return
	}
	if t.total == 0 {
		t.bar.SetTotal(-1, true)
	}
	t.bar.SetTotal(t.bar.Current(), true)
}
