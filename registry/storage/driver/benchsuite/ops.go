package benchsuite

import (
	"context"
	"fmt"
	"io"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// The operations below are what the benchmarks time. They are exported so that
// bench/storage, which compares the drivers with the machine's limit, times the
// very same calls.

// Pattern gives n deterministic, not quite uniform bytes to write.
func Pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i>>8)
	}
	return b
}

// WriteMove is a streamed upload: size bytes, chunk (data) after chunk, through
// Writer at staging, Commit, then Move to dst.
func WriteMove(ctx context.Context, d driver.Driver, staging, dst string, data []byte, size int64) error {
	w, err := d.Writer(ctx, staging, false)
	if err != nil {
		return err
	}
	for n := int64(0); n < size; {
		c := data[:min(int64(len(data)), size-n)]
		if _, err := w.Write(c); err != nil {
			w.Cancel(ctx)
			return err
		}
		n += int64(len(c))
	}
	if err := w.Commit(ctx); err != nil {
		return err
	}
	return d.Move(ctx, staging, dst)
}

// PutStream writes size bytes (data over and over) straight to dst with the
// driver's driver.Putter, which it must implement.
func PutStream(ctx context.Context, d driver.Driver, dst string, data []byte, size int64) error {
	pt, ok := d.(driver.Putter)
	if !ok {
		return fmt.Errorf("%s has no PutStream", d.Name())
	}
	_, err := pt.PutStream(ctx, dst, &RepeatReader{Data: data, Left: size}, size)
	return err
}

// ReadRange reads n bytes of p from offset through Reader and fails if fewer came.
func ReadRange(ctx context.Context, d driver.Driver, p string, offset, n int64) error {
	r, err := d.Reader(ctx, p, offset)
	if err != nil {
		return err
	}
	defer r.Close()
	got, err := io.Copy(io.Discard, io.LimitReader(r, n))
	if err == nil && got != n {
		err = fmt.Errorf("read %d bytes of %s from %d, want %d", got, p, offset, n)
	}
	return err
}

// RepeatReader gives Data over and over, Left bytes in all.
type RepeatReader struct {
	Data []byte
	Left int64
	off  int
}

func (r *RepeatReader) Read(p []byte) (int, error) {
	if r.Left == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), r.Left)], r.Data[r.off:])
	r.off = (r.off + n) % len(r.Data)
	r.Left -= int64(n)
	return n, nil
}
