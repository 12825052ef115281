package testsuite

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// failAtEnd gives b, then err instead of io.EOF: a digest found wrong at the end.
type failAtEnd struct {
	r   *bytes.Reader
	err error
}

func (f *failAtEnd) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// onlyReader hides bytes.Reader's extra methods, as a network body would.
type onlyReader struct{ io.Reader }

func testPutStream(t *testing.T, d driver.Driver) {
	pt, ok := d.(driver.Putter)
	if !ok {
		t.Skipf("%s does not implement driver.Putter", d.Name())
	}
	ctx := context.Background()
	for i, c := range []struct {
		size    int
		declare bool
	}{{0, true}, {0, false}, {1000, true}, {1000, false}, {20<<20 + 3, true}, {10<<20 + 1, false}} {
		p := "stream/ok/" + string(rune('a'+i))
		want := randomBytes(uint64(i), c.size)
		size := int64(-1)
		if c.declare {
			size = int64(c.size)
		}
		n, err := pt.PutStream(ctx, p, onlyReader{bytes.NewReader(want)}, size)
		if err != nil || n != int64(c.size) {
			t.Fatalf("PutStream(%d bytes, size %d) = %d, %v", c.size, size, n, err)
		}
		sameBytes(t, "PutStream "+p, readAll(t, d, p, 0), want)
	}

	boom := errors.New("digest mismatch")
	const p = "stream/guarded"
	put(t, d, p, []byte("old"))
	for _, c := range []struct {
		size, declared int64
		want           error
	}{
		{20 << 20, 20 << 20, boom}, {20 << 20, -1, boom}, {1000, 1000, boom}, {0, 0, boom},
		{20 << 20, 20<<20 + 1, driver.ErrSizeMismatch}, {20 << 20, 20<<20 - 1, driver.ErrSizeMismatch},
		{1000, 999, driver.ErrSizeMismatch}, {1000, 1001, driver.ErrSizeMismatch},
	} {
		var r io.Reader = onlyReader{bytes.NewReader(randomBytes(5, int(c.size)))}
		if c.want == boom {
			r = &failAtEnd{r: bytes.NewReader(randomBytes(5, int(c.size))), err: boom}
		}
		_, err := pt.PutStream(ctx, p, r, c.declared)
		if !errors.Is(err, c.want) {
			t.Fatalf("PutStream(%d bytes, declared %d): got %v, want %v", c.size, c.declared, err, c.want)
		}
		sameBytes(t, "file after a failed PutStream", get(t, d, p), []byte("old"))
		_, err = pt.PutStream(ctx, "stream/new", &failAtEnd{r: bytes.NewReader(randomBytes(6, int(c.size))), err: boom}, c.declared)
		if !errors.Is(err, boom) && !errors.Is(err, driver.ErrSizeMismatch) {
			t.Fatalf("PutStream to a new path failing: %v", err)
		}
		wantErr(t, "Stat after a failed PutStream to a new path", statErr(d, "stream/new"), driver.ErrNotFound)
	}
	wantErr(t, "PutStream to an invalid path", func() error {
		_, err := pt.PutStream(ctx, "../x", bytes.NewReader(nil), 0)
		return err
	}(), driver.ErrInvalidPath)
}
