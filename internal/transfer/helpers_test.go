package transfer

import (
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// modelDir writes artifacttest.ModelDir with a big (bigMiB) original file
// so that pulls take the resumable path.
func modelDir(t testing.TB, bigMiB int, seed uint64) string {
	t.Helper()
	dir := artifacttest.ModelDir(t, seed)
	big := make([]byte, bigMiB<<20)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i+8 <= len(big); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			big[i+j] = byte(v >> (8 * j))
		}
	}
	writeFile(t, dir, "original/weights.bin", string(big))
	return dir
}

var (
	writeFile = artifacttest.WriteFile
	sameTree  = artifacttest.SameTree
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// proxy is a counting reverse proxy in front of a registry: it records the
// blob GETs (path, Range header, bytes sent) so tests can see what moved.
type proxy struct {
	Addr string
	mu   sync.Mutex
	gets []blobGet
}

type blobGet struct {
	Path, Range string
	Bytes       int64
}

func startProxy(t testing.TB, upstream string) *proxy {
	t.Helper()
	u, _ := url.Parse("http://" + upstream)
	p := &proxy{Addr: testutil.FreeAddr(t)}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Addr: p.Addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			cw := &countingWriter{ResponseWriter: w}
			rp.ServeHTTP(cw, r)
			p.mu.Lock()
			p.gets = append(p.gets, blobGet{Path: r.URL.Path, Range: r.Header.Get("Range"), Bytes: cw.n})
			p.mu.Unlock()
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.ListenAndServe()
	t.Cleanup(func() { srv.Close() })
	testutil.WaitHTTP(t, "http://"+p.Addr+"/v2/", 10*time.Second)
	return p
}

func (p *proxy) Gets() []blobGet {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]blobGet(nil), p.gets...)
}

func (p *proxy) Reset() {
	p.mu.Lock()
	p.gets = nil
	p.mu.Unlock()
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

func (c *countingWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// cancelAfter is a progress.Reporter that calls cancel once a file has moved
// more than n bytes: a pull interrupted mid-blob.
type cancelAfter struct {
	name   string
	n      int64
	cancel func()
}

func (c *cancelAfter) Start(name string, total int64) progress.Bar {
	return &cancelBar{c: c, name: name}
}
func (c *cancelAfter) Wait()      {}
func (c *cancelAfter) Live() bool { return true }

type cancelBar struct {
	c    *cancelAfter
	name string
	done int64
	mu   sync.Mutex
}

func (b *cancelBar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if b.name == b.c.name && b.done > b.c.n {
		b.c.cancel()
	}
}
func (b *cancelBar) SetCurrent(n int64) {}
func (b *cancelBar) Done(string)        {}
func (b *cancelBar) Abort(error)        {}

// axonRegistry builds and starts cmd/axon-registry.
func axonRegistry(t testing.TB, extra ...string) string {
	t.Helper()
	bin := testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon-registry")
	addr := testutil.FreeAddr(t)
	args := append([]string{"--addr", addr, "--root", t.TempDir(), "--log-level", "error", "--ui=false"}, extra...)
	testutil.Start(t, nil, bin, args...)
	testutil.WaitHTTP(t, "http://"+addr+"/v2/", 30*time.Second)
	return addr
}

func runTool(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
	}
	return string(out)
}

var _ io.Writer = (*countingWriter)(nil)
