package fs

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func pseudo(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 9}).Read(b)
	return b
}

// Uploads bigger than the staging block go to the disk with O_DIRECT; every
// mix of write sizes, memory alignments, appends at aligned and unaligned
// offsets, Close and Commit must store exactly the bytes written.
func TestDirectWriterBytes(t *testing.T) {
	d, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// bigger than a pool buffer: both the zero-copy path and the staged copy run
	data := pseudo(5<<20+12345, 1)
	cases := []struct {
		name     string
		sessions []int // bytes per Writer session (append after the first); the last commits
		chunks   []int // Write sizes, cycled
		shift    int   // write from data[shift:] so the memory is unaligned
	}{
		{"one session, 1 MiB writes", []int{len(data)}, []int{1 << 20}, 0},
		{"one session, odd writes", []int{len(data)}, []int{1, 4095, 70000, 3 << 20}, 0},
		{"unaligned memory", []int{len(data) - 3}, []int{1 << 20, 2<<20 + 5}, 3},
		{"aligned then unaligned appends", []int{2 << 20, 1<<20 + 7, 2 << 20, len(data) - (5<<20 + 7)}, []int{256 << 10}, 0},
		{"small file", []int{100}, []int{100}, 0},
		{"empty", []int{0}, []int{1}, 0},
	}
	for i, c := range cases {
		p := "_uploads/case" + string(rune('a'+i)) + "/data"
		src := data[c.shift:]
		off := 0
		for si, n := range c.sessions {
			fw, err := d.Writer(ctx, p, si > 0)
			if err != nil {
				t.Fatal(err)
			}
			if fw.Size() != int64(off) {
				t.Fatalf("%s: session %d starts at %d, want %d", c.name, si, fw.Size(), off)
			}
			end := off + n
			for k := 0; off < end; k++ {
				m := min(c.chunks[k%len(c.chunks)], end-off)
				if w, err := fw.Write(src[off : off+m]); err != nil || w != m {
					t.Fatalf("%s: Write(%d) = %d, %v", c.name, m, w, err)
				}
				off += m
			}
			if si == len(c.sessions)-1 {
				err = fw.Commit(ctx)
			} else {
				err = fw.Close()
			}
			if err != nil {
				t.Fatalf("%s: session %d: %v", c.name, si, err)
			}
		}
		r, err := d.Reader(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src[:off]) {
			t.Fatalf("%s: stored %d bytes, differing from the %d written", c.name, len(got), off)
		}
	}
}

// The point of the direct path: on a filesystem that supports it (the test's
// temporary directory, ext4 or xfs on CI), a large upload really bypasses the
// page cache, and the descriptor is back to buffered I/O for the tail.
func TestDirectWriterUsesODirect(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(dir + "/x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := setDirect(int(f.Fd()), true); err != nil {
		t.Skipf("the filesystem of %s refuses O_DIRECT (%v): uploads are written buffered there", dir, err)
	}
	setDirect(int(f.Fd()), false)

	sw := newStreamWriter(f, 0)
	w := sw.(*directWriter)
	data := pseudo(3<<20+10, 2)
	// 64 KiB at a time, as a body may arrive, and never a whole block in one write
	for off := 0; off < len(data); off += 64 << 10 {
		if _, err := w.Write(data[off:min(off+64<<10, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	if !w.direct || w.off {
		t.Fatalf("after %d bytes: direct=%v off=%v, want O_DIRECT in use", len(data), w.direct, w.off)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fl&unix.O_DIRECT != 0 {
		t.Fatal("O_DIRECT still set after Flush: the tail and later appends would be refused")
	}
	got, err := os.ReadFile(dir + "/x")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("file holds %d bytes (err %v), differing from the %d written", len(got), err, len(data))
	}
}
