package fs

import (
	"bufio"
	"errors"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A large upload is written with O_DIRECT: the bytes go from the request's
// buffers to the disk without being copied into the page cache first. That
// copy (into freshly allocated page-cache pages) is the biggest CPU cost of a
// push after hashing, and the fsync at commit then has only metadata and the
// device cache left to flush. Small files never reach the disk this way: the
// first directBufSize bytes are buffered, and whatever is left over at Close or
// Commit (the unaligned tail, or a whole small file) is written through the
// page cache as before.
//
// O_DIRECT wants the memory, the file offset and the length aligned; where the
// filesystem refuses it (tmpfs on older kernels, some FUSE mounts) or a write
// is refused with EINVAL, the writer switches to ordinary buffered writes with
// early writeback (writeback.go) and carries on: the bytes are the same.

const (
	directAlign   = 4096
	directBufSize = 1 << 20
)

var directBufs = sync.Pool{New: func() any {
	b := make([]byte, directBufSize+directAlign)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % directAlign); r != 0 {
		off = directAlign - r
	}
	b = b[off : off+directBufSize : off+directBufSize]
	return &b
}}

func aligned(p []byte) bool { return uintptr(unsafe.Pointer(&p[0]))%directAlign == 0 }

// directWriter writes aligned blocks of the stream with O_DIRECT (set on the
// descriptor once the first full block is ready) and the rest through out.
type directWriter struct {
	f      *os.File
	fd     int
	wb     *writeback    // the file, seen by the buffered path
	out    *bufio.Writer // the buffered path: the tail, and everything once direct I/O is off
	buf    *[]byte       // aligned staging block, nil once released
	n      int           // bytes in buf
	direct bool          // O_DIRECT is set on fd
	off    bool          // direct I/O refused or not possible: buffered from here on
	start  int64         // file offset the writer started at
}

// newStreamWriter starts at file offset size; an unaligned start (an append to
// an unaligned chunk) writes buffered throughout.
func newStreamWriter(f *os.File, size int64) streamWriter {
	wb := newWriteback(f, size)
	return &directWriter{f: f, fd: int(f.Fd()), wb: wb, out: bufio.NewWriterSize(wb, bufSize), off: size%directAlign != 0, start: size}
}

func (w *directWriter) Write(p []byte) (int, error) {
	if w.off {
		return w.out.Write(p)
	}
	total := len(p)
	if w.buf == nil {
		// small files (configs, manifests, the tail of most uploads) never need
		// the direct path: they stay buffered until the stream outgrows a block
		if w.wb.off-w.start+int64(w.out.Buffered()+len(p)) < directBufSize {
			return w.out.Write(p)
		}
		// switching: what is buffered goes out buffered, up to an aligned offset
		if err := w.out.Flush(); err != nil {
			return 0, err
		}
		if pad := int((directAlign - w.wb.off%directAlign) % directAlign); pad > 0 {
			pad = min(pad, len(p))
			if _, err := w.wb.Write(p[:pad]); err != nil {
				return 0, err
			}
			p = p[pad:]
			if len(p) == 0 {
				return total, nil // not aligned yet: the next write goes on from here
			}
		}
		w.buf = directBufs.Get().(*[]byte)
	}
	for len(p) > 0 {
		// whole aligned blocks straight from the caller's buffer, when nothing is staged
		if w.n == 0 && len(p) >= directBufSize && aligned(p) {
			k := len(p) - len(p)%directAlign
			n, err := w.writeDirect(p[:k])
			p = p[n:]
			if err != nil {
				return total - len(p), err
			}
			continue
		}
		c := copy((*w.buf)[w.n:], p)
		w.n += c
		p = p[c:]
		if w.n == directBufSize {
			if _, err := w.writeDirect(*w.buf); err != nil {
				return total - len(p), err
			}
			w.n = 0
		}
	}
	return total, nil
}

// writeDirect writes b (aligned, a multiple of directAlign) with O_DIRECT, or
// buffered once that is refused.
func (w *directWriter) writeDirect(b []byte) (int, error) {
	if !w.direct && !w.off {
		if err := setDirect(w.fd, true); err != nil {
			w.off = true
		} else {
			w.direct = true
		}
	}
	if w.off {
		return w.out.Write(b)
	}
	n, err := w.f.Write(b)
	w.wb.off += int64(n)
	w.wb.started = w.wb.off // on the disk already
	if errors.Is(err, syscall.EINVAL) {
		// the filesystem takes O_DIRECT at open but not for this write: buffered from here
		w.off = true
		if serr := setDirect(w.fd, false); serr != nil {
			return n, serr
		}
		w.direct = false
		m, err := w.out.Write(b[n:])
		return n + m, err
	}
	return n, err
}

// Flush writes what is staged through the page cache and leaves the
// descriptor without O_DIRECT; the writer must not be used afterwards.
func (w *directWriter) Flush() error {
	var err error
	if w.direct {
		err = setDirect(w.fd, false)
		w.direct = false
	}
	if w.buf != nil {
		if err == nil && w.n > 0 {
			_, err = w.out.Write((*w.buf)[:w.n])
		}
		w.n = 0
		directBufs.Put(w.buf)
		w.buf = nil
	}
	w.off = true
	if ferr := w.out.Flush(); err == nil {
		err = ferr
	}
	return err
}

func setDirect(fd int, on bool) error {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if on {
		fl |= unix.O_DIRECT
	} else {
		fl &^= unix.O_DIRECT
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl)
	return err
}
