package repostore

import (
	"fmt"
	"hash"
	"io"
	"sync"
)

const copyBufSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// copyHashing copies src to dst and into h. Reading, hashing and writing run
// concurrently (a read-ahead goroutine, the hash beside the write), so a large push
// costs about max(network, hash, disk) rather than their sum.
func copyHashing(dst io.Writer, h hash.Hash, src io.Reader) (int64, error) {
	type chunk struct {
		buf *[]byte
		n   int
		err error
	}
	// small first read: most blobs (configs, manifests, tiny layers) fit, and need no goroutine
	first := bufPool.Get().(*[]byte)
	n, err := fill(src, *first)
	if err == io.EOF {
		defer bufPool.Put(first)
		h.Write((*first)[:n])
		if _, werr := dst.Write((*first)[:n]); werr != nil {
			return 0, werr
		}
		return int64(n), nil
	}
	if err != nil {
		bufPool.Put(first)
		return 0, fmt.Errorf("%w: %v", ErrBodyRead, err)
	}

	chunks := make(chan chunk, 3)
	stop := make(chan struct{})
	go func() {
		defer close(chunks)
		chunks <- chunk{buf: first, n: n}
		for {
			b := bufPool.Get().(*[]byte)
			n, err := fill(src, *b)
			if err == io.EOF {
				if n == 0 {
					bufPool.Put(b)
					return
				}
				select {
				case chunks <- chunk{buf: b, n: n}:
				case <-stop:
				}
				return
			}
			select {
			case chunks <- chunk{buf: b, n: n, err: err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		// the reader may be blocked on the network: let it finish on its own
		go func() {
			for c := range chunks {
				bufPool.Put(c.buf)
			}
		}()
	}()

	var total int64
	var wg sync.WaitGroup
	for c := range chunks {
		if c.err != nil {
			bufPool.Put(c.buf)
			return total, fmt.Errorf("%w: %v", ErrBodyRead, c.err)
		}
		data := (*c.buf)[:c.n]
		wg.Add(1)
		go func() { h.Write(data); wg.Done() }()
		_, werr := dst.Write(data)
		wg.Wait()
		bufPool.Put(c.buf)
		if werr != nil {
			return total, werr
		}
		total += int64(c.n)
	}
	return total, nil
}

// fill reads until buf is full (nil error) or the source ends (io.EOF, with the
// bytes read so far). Unlike io.ReadFull it never turns a source's own error,
// such as a truncated chunked body's io.ErrUnexpectedEOF, into a normal end.
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
