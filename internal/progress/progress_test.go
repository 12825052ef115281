package progress

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/vbauerster/mpb/v8"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 1 << 30: "1.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// Off a terminal: one line per finished file, with its rate.
func TestPlain(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, false)
	if r.Live() {
		t.Error("a buffer is not a live display")
	}
	b := r.Start("model.onnx", 2048)
	b.Add(1024)
	b.Add(1024)
	b.Done("pulled")
	r.Start("weights.bin", 10).Abort(errors.New("boom"))
	r.Wait()
	out := buf.String()
	if !strings.Contains(out, "pulled       model.onnx (2.0 KiB)") || !strings.Contains(out, "/s") || !strings.Contains(out, "failed       weights.bin: boom") {
		t.Errorf("output:\n%s", out)
	}
	if New(&buf, true).Start("x", 1) == nil {
		t.Error("quiet reporter gives no bar")
	}
}

// The bar display writes sizes the way the plain lines do.
func TestBarsSizes(t *testing.T) {
	var buf bytes.Buffer
	r := newBars(&buf, mpb.WithAutoRefresh()) // a buffer is no terminal: draw anyway
	b := r.Start("config.json", 264)
	b.Add(264)
	b.Done("pulled")
	r.Wait()
	out := buf.String()
	if !strings.Contains(out, "264 B / 264 B") || !strings.Contains(out, "pulled") || strings.Contains(out, " b ") {
		t.Errorf("bars:\n%q", out)
	}
}
