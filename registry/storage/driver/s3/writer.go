package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/minio/minio-go/v7"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// Part sizes of a streamed object: S3 allows 10,000 parts of at least 5 MiB
// (the last may be smaller). Small parts keep memory low; after the first
// thousand they grow, so a single session can still hold ~600 GiB.
const (
	smallPart     = 8 << 20
	largePart     = 64 << 20
	smallParts    = 1000
	partsInFlight = 4  // uploads of one writer running while its next part fills
	maxInFlight   = 16 // part uploads of all writers: bounds the memory they hold
)

var smallBufs = sync.Pool{New: func() any { b := make([]byte, 0, smallPart); return &b }}

// Writer implements driver.Driver: each session streams into its own part
// object "<p>.axon-parts/<seq>".
func (d *Driver) Writer(ctx context.Context, p string, append bool) (driver.FileWriter, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return nil, err
	}
	parts, err := d.parts(ctx, p)
	if err != nil {
		return nil, wrap(ctx, "write", p, err)
	}
	if !append && len(parts) > 0 {
		if _, err := d.removePrefix(ctx, d.partsKey(p)); err != nil {
			return nil, wrap(ctx, "write", p, err)
		}
		parts = nil
	}
	var base int64
	seq := 1
	for _, pt := range parts {
		base += pt.size
	}
	if len(parts) > 0 {
		last := strings.TrimPrefix(parts[len(parts)-1].key, d.partsKey(p))
		n, err := strconv.Atoi(last)
		if err != nil {
			return nil, fmt.Errorf("write %s: unexpected part object %q", p, last)
		}
		seq = n + 1
	}
	ow := d.newObjectWriter(ctx, d.partsKey(p)+fmt.Sprintf("%010d", seq))
	// A first, empty session must still leave a (zero-byte) file behind.
	ow.putEmpty = len(parts) == 0
	return &writer{d: d, path: p, base: base, ow: ow}, nil
}

type writer struct {
	d    *Driver
	path string
	base int64
	ow   *objectWriter
	done bool
}

func (w *writer) Write(b []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: writer is closed", w.path)
	}
	n, err := w.ow.Write(b)
	if err != nil {
		return n, wrap(w.ow.ctx, "write", w.path, err)
	}
	return n, nil
}

func (w *writer) Size() int64 { return w.base + w.ow.written }

func (w *writer) Close() error {
	if w.done {
		return fmt.Errorf("close %s: writer is closed", w.path)
	}
	w.done = true
	return wrap(w.ow.ctx, "close", w.path, w.ow.finish())
}

// Commit is Close: a completed S3 object is already durable.
func (w *writer) Commit(ctx context.Context) error { return w.Close() }

func (w *writer) Cancel(ctx context.Context) error {
	if !w.done {
		w.done = true
		w.ow.abort()
	}
	if _, err := w.d.removePrefix(ctx, w.d.partsKey(w.path)); err != nil {
		return wrap(ctx, "cancel", w.path, err)
	}
	return nil
}

// objectWriter streams into one object: a single PutObject when everything
// fits in the first buffer, else a multipart upload with a few parts in flight.
// The object appears only when complete.
type objectWriter struct {
	d        *Driver
	ctx      context.Context
	key      string
	putEmpty bool // write the object even when nothing was written

	buf      *[]byte
	written  int64
	uploadID string
	next     int // next part number

	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	done []minio.CompletePart
	err  error
}

func (d *Driver) newObjectWriter(ctx context.Context, key string) *objectWriter {
	return &objectWriter{d: d, ctx: ctx, key: key, putEmpty: true, next: 1, sem: make(chan struct{}, partsInFlight)}
}

func (o *objectWriter) failed() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *objectWriter) fail(err error) {
	o.mu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.mu.Unlock()
}

func (o *objectWriter) partSize() int {
	if o.next <= smallParts {
		return smallPart
	}
	return largePart
}

func (o *objectWriter) Write(b []byte) (int, error) {
	if err := o.failed(); err != nil {
		return 0, err
	}
	total := 0
	for len(b) > 0 {
		if o.buf == nil {
			if o.partSize() == smallPart {
				o.buf = smallBufs.Get().(*[]byte)
			} else {
				nb := make([]byte, 0, largePart)
				o.buf = &nb
			}
		}
		buf := *o.buf
		n := min(len(b), cap(buf)-len(buf))
		*o.buf = append(buf, b[:n]...)
		b, total, o.written = b[n:], total+n, o.written+int64(n)
		if len(*o.buf) == cap(*o.buf) {
			if err := o.flush(); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// flush hands the full buffer to a background part upload.
func (o *objectWriter) flush() error {
	if o.uploadID == "" {
		id, err := o.d.core.NewMultipartUpload(o.ctx, o.d.bucket, o.key, putOptions())
		if err != nil {
			o.fail(err)
			return err
		}
		o.uploadID = id
	}
	buf, num := o.buf, o.next
	o.buf, o.next = nil, o.next+1
	for _, sem := range []chan struct{}{o.sem, o.d.inFlight} {
		select {
		case sem <- struct{}{}:
		case <-o.ctx.Done():
			if sem == o.d.inFlight {
				<-o.sem
			}
			release(buf)
			o.fail(o.ctx.Err())
			return o.ctx.Err()
		}
	}
	o.wg.Go(func() {
		defer func() { <-o.d.inFlight; <-o.sem }()
		part, err := o.d.core.PutObjectPart(o.ctx, o.d.bucket, o.key, o.uploadID, num,
			bytes.NewReader(*buf), int64(len(*buf)), minio.PutObjectPartOptions{DisableContentSha256: true})
		release(buf)
		if err != nil {
			o.fail(fmt.Errorf("upload part %d: %w", num, err))
			return
		}
		o.mu.Lock()
		o.done = append(o.done, minio.CompletePart{PartNumber: num, ETag: part.ETag})
		o.mu.Unlock()
	})
	return o.failed()
}

func release(buf *[]byte) {
	if cap(*buf) == smallPart {
		*buf = (*buf)[:0]
		smallBufs.Put(buf)
	}
}

// finish completes the object.
func (o *objectWriter) finish() error {
	if o.uploadID == "" {
		var data []byte
		if o.buf != nil {
			data = *o.buf
			defer release(o.buf)
			o.buf = nil
		}
		if len(data) == 0 && !o.putEmpty {
			return nil
		}
		return o.d.putBytes(o.ctx, o.key, data)
	}
	if o.buf != nil && len(*o.buf) > 0 {
		o.flush()
	}
	o.wg.Wait()
	if err := o.failed(); err != nil {
		o.abort()
		return err
	}
	slices.SortFunc(o.done, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
	_, err := o.d.core.CompleteMultipartUpload(o.ctx, o.d.bucket, o.key, o.uploadID, o.done, putOptions())
	if err != nil {
		o.abort()
	}
	return err
}

// abort drops an unfinished upload; the parts never become visible.
func (o *objectWriter) abort() {
	o.fail(errors.New("upload aborted"))
	o.wg.Wait()
	if o.buf != nil {
		release(o.buf)
		o.buf = nil
	}
	if o.uploadID != "" {
		// The request context may be gone already; the abort must still happen.
		ctx := context.WithoutCancel(o.ctx)
		o.d.core.AbortMultipartUpload(ctx, o.d.bucket, o.key, o.uploadID)
		o.uploadID = ""
	}
}
