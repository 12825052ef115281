package fs

import "os"

// writebackChunk is how much a streamed write lets pile up in the page cache
// before asking the kernel to start writing it out. The fsync that makes an
// upload durable then finds most of the file already on its way to the disk
// instead of starting all of it at the end, after the last byte arrived.
const writebackChunk = 8 << 20

// writeback passes writes to f and starts the disk writeback of every
// writebackChunk as soon as it is written (asynchronously: the writer never
// waits for the disk here). Durability still comes only from f.Sync.
type writeback struct {
	f       *os.File
	fd      uintptr
	off     int64 // file offset after the last write
	started int64 // writeback was started for the bytes before this offset
}

func newWriteback(f *os.File, off int64) *writeback {
	return &writeback{f: f, fd: f.Fd(), off: off, started: off}
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackChunk {
		startWriteback(w.fd, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}
