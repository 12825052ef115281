//go:build !linux

package fs

import (
	"bufio"
	"os"
)

// newStreamWriter writes through the page cache where O_DIRECT is not
// available (direct_linux.go).
func newStreamWriter(f *os.File, size int64) streamWriter {
	return bufio.NewWriterSize(newWriteback(f, size), bufSize)
}
