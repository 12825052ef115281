package fs

import (
	"context"
	"io"
	"os"
	"testing"
)

// The registry copies blob readers into the connection; net/http reaches
// sendfile(2) only when the reader is a plain *os.File (io.LimitReader over it
// is fine). A wrapper type here would silently move every blob through user
// space.
func TestReaderIsAPlainFile(t *testing.T) {
	d, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.PutContent(ctx, "blobs/x/data", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 4} {
		rc, err := d.Reader(ctx, "blobs/x/data", off)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := rc.(*os.File); !ok {
			t.Fatalf("Reader at %d is a %T, not an *os.File: blob downloads lose sendfile", off, rc)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "0123456789"[off:] {
			t.Fatalf("Reader at %d read %q", off, b)
		}
	}
}
