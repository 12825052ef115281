// Package hubtest holds replica servers of the model hubs (Hugging Face, GitHub
// for PyTorch Hub, TF Hub with its Kaggle redirect, ModelScope) for tests. They
// speak each hub's real protocol: the same URLs, headers, redirects to a second
// host for large files, ranges, ETags, pagination and error codes. Faults can be
// injected per file: a connection cut mid-body, or corrupted bytes.
package hubtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// File is one file of a replica repository, in memory or on disk.
type File struct {
	Path string
	Data []byte
	Disk string // read from this file instead of Data (large models)
	// LFS marks the file as stored in Git LFS (served from the CDN host);
	// by default large files and weight formats are.
	LFS *bool
}

// Bytes is a File held in memory.
func Bytes(p string, b []byte) File { return File{Path: p, Data: b} }

// blob is a file's content and its digests.
type blob struct {
	path   string
	data   []byte
	disk   string
	size   int64
	sha256 string
	gitOID string // git blob id of the content
	lfs    bool
}

func newBlob(f File) (*blob, error) {
	b := &blob{path: f.Path, data: f.Data, disk: f.Disk}
	h256 := sha256.New()
	var size int64
	gitContent := ""
	if f.Disk != "" {
		fh, err := os.Open(f.Disk)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		fi, err := fh.Stat()
		if err != nil {
			return nil, err
		}
		size = fi.Size()
		hg := sha1.New()
		fmt.Fprintf(hg, "blob %d\x00", size)
		if _, err = io.Copy(io.MultiWriter(h256, hg), fh); err != nil {
			return nil, err
		}
		gitContent = hex.EncodeToString(hg.Sum(nil))
	} else {
		h256.Write(f.Data)
		size = int64(len(f.Data))
		gitContent = gitBlobID(f.Data, size)
	}
	b.size = size
	b.sha256 = hex.EncodeToString(h256.Sum(nil))
	ext := strings.ToLower(path.Ext(f.Path))
	b.lfs = size > 10<<10 || ext == ".onnx" || ext == ".bin" || ext == ".safetensors" || ext == ".pth" || ext == ".pt" || ext == ".h5" || ext == ".onnx_data"
	if f.LFS != nil {
		b.lfs = *f.LFS
	}
	if !b.lfs {
		b.gitOID = gitContent
	} else {
		b.gitOID = gitBlobID([]byte(b.pointer()), -1)
	}
	return b, nil
}

// pointer is the Git LFS pointer file that git stores for an LFS file.
func (b *blob) pointer() string {
	return fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", b.sha256, b.size)
}

func gitBlobID(data []byte, size int64) string {
	if size < 0 {
		size = int64(len(data))
	}
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", size)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

func (b *blob) open() (io.ReadSeeker, func(), error) {
	if b.disk != "" {
		f, err := os.Open(b.disk)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
	return bytes.NewReader(b.data), func() {}, nil
}

// Faults are injected failures, keyed by file path; shared by every replica.
type Faults struct {
	mu      sync.Mutex
	cut     map[string]int64
	corrupt map[string]bool
	// BytesServed counts file body bytes sent; FileGets counts file GETs.
	BytesServed atomic.Int64
	FileGets    atomic.Int64
	Ranges      atomic.Int64 // GETs with a Range header
}

// CutOnce makes the next GET of path send `after` body bytes, then drop the connection.
func (f *Faults) CutOnce(path string, after int64) { setFault(&f.mu, &f.cut, path, after) }

// Corrupt makes every GET of path serve different bytes of the same size.
func (f *Faults) Corrupt(path string, on bool) { setFault(&f.mu, &f.corrupt, path, on) }

// setFault sets (*faults)[path] under mu, making the map on first use.
func setFault[V any](mu *sync.Mutex, faults *map[string]V, path string, v V) {
	mu.Lock()
	defer mu.Unlock()
	if *faults == nil {
		*faults = map[string]V{}
	}
	(*faults)[path] = v
}

func (f *Faults) take(path string) (cut int64, corrupt bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cut = -1
	if n, ok := f.cut[path]; ok {
		cut = n
		delete(f.cut, path)
	}
	return cut, f.corrupt[path]
}

// serve sends a blob with Range/If-Range/ETag handling (206, 416) and the faults.
func (f *Faults) serve(w http.ResponseWriter, r *http.Request, b *blob, etag string, mod time.Time) {
	rs, done, err := b.open()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer done()
	if etag != "" {
		w.Header().Set("ETag", etag)
	}
	if r.Method == http.MethodHead {
		http.ServeContent(w, r, "", mod, rs)
		return
	}
	f.FileGets.Add(1)
	if r.Header.Get("Range") != "" {
		f.Ranges.Add(1)
	}
	cut, corrupt := f.take(b.path)
	if corrupt {
		rs = &flipReader{rs: rs}
	}
	cw := &countingWriter{ResponseWriter: w, f: f, left: cut}
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(cw, r, "", mod, rs)
}

type countingWriter struct {
	http.ResponseWriter
	f    *Faults
	left int64 // bytes until the connection is cut; -1 never
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.left >= 0 && int64(len(p)) >= c.left {
		n, _ := c.ResponseWriter.Write(p[:c.left])
		c.f.BytesServed.Add(int64(n))
		if fl, ok := c.ResponseWriter.(http.Flusher); ok {
			fl.Flush()
		}
		// Aborting the handler closes the connection mid-body, like a network cut.
		panic(http.ErrAbortHandler)
	}
	if c.left >= 0 {
		c.left -= int64(len(p))
	}
	n, err := c.ResponseWriter.Write(p)
	c.f.BytesServed.Add(int64(n))
	return n, err
}

// ReadFrom keeps the server's sendfile path (what a real file server does) when no cut is pending.
func (c *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.ResponseWriter.(io.ReaderFrom); ok && c.left < 0 {
		n, err := rf.ReadFrom(r)
		c.f.BytesServed.Add(n)
		return n, err
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

func (c *countingWriter) Flush() {
	if fl, ok := c.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// flipReader inverts the first byte of the file.
type flipReader struct {
	rs  io.ReadSeeker
	off int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.rs.Read(p)
	if f.off == 0 && n > 0 {
		p[0] ^= 0xff
	}
	f.off += int64(n)
	return n, err
}

func (f *flipReader) Seek(off int64, whence int) (int64, error) {
	n, err := f.rs.Seek(off, whence)
	f.off = n
	return n, err
}

//go:embed testdata/tiny-bert
var tinyBERT embed.FS

// TinyBERT returns the committed tiny BERT-architecture text classifier repository
// (random weights, made by testdata/make_tiny_bert.py): config.json with
// architectures and id2label, tokenizer.json (WordPiece), vocab.txt, pytorch_model.bin
// and onnx/model.onnx with input_ids / attention_mask / token_type_ids.
func TinyBERT() []File {
	var out []File
	_ = fs.WalkDir(tinyBERT, "testdata/tiny-bert", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := tinyBERT.ReadFile(p)
		out = append(out, File{Path: strings.TrimPrefix(p, "testdata/tiny-bert/"), Data: b})
		return nil
	})
	return out
}
