package download_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

func payload(n int) ([]byte, string) {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7 % 251)
	}
	s := sha256.Sum256(b)
	return b, hex.EncodeToString(s[:])
}

// server serves data; the first `cuts` GETs stop after `after` bytes; when
// ignoreRange is set it answers every request with the whole file (200).
type server struct {
	data        []byte
	cuts        atomic.Int32
	after       int
	ignoreRange bool
	ranges      atomic.Int32
	gets        atomic.Int32
}

// start serves s until the test ends, its first cuts GETs cut off; it
// returns the server's URL.
func (s *server) start(t *testing.T, cuts int32) string {
	s.cuts.Store(cuts)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.gets.Add(1)
	if r.Header.Get("Range") != "" {
		s.ranges.Add(1)
		if s.ignoreRange {
			r.Header.Del("Range")
		}
	}
	if s.cuts.Add(-1) >= 0 {
		w.Header().Set("Content-Length", fmt.Sprint(len(s.data)))
		w.WriteHeader(http.StatusOK)
		w.Write(s.data[:s.after])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(s.data))
}

func TestResumeInNextRun(t *testing.T) {
	data, sum := payload(3 << 20)
	srv := &server{data: data, after: 1 << 20}
	url := srv.start(t, 1)
	cache := t.TempDir()
	e := &download.Engine{CacheDir: cache, Retries: -1}
	f := download.File{Path: "w.bin", URL: url + "/w.bin", Size: int64(len(data)), Sum: download.Checksum{Algo: download.SHA256, Value: sum}}
	if _, err := e.Fetch(context.Background(), t.TempDir(), []download.File{f}); err == nil {
		t.Fatal("a cut connection without retries succeeded")
	}
	dir := t.TempDir()
	st, err := e.Fetch(context.Background(), dir, []download.File{f})
	if err != nil {
		t.Fatal(err)
	}
	if srv.ranges.Load() != 1 || st.DownloadedBytes != int64(len(data)-(1<<20)) {
		t.Errorf("ranges %d, downloaded %d bytes: want one resume of the missing %d", srv.ranges.Load(), st.DownloadedBytes, len(data)-(1<<20))
	}
	got, _ := os.ReadFile(filepath.Join(dir, "w.bin"))
	if !bytes.Equal(got, data) {
		t.Fatal("resumed file differs")
	}
}

func TestServerIgnoringRangeRestarts(t *testing.T) {
	data, sum := payload(2 << 20)
	srv := &server{data: data, after: 100000, ignoreRange: true}
	url := srv.start(t, 2)
	e := &download.Engine{CacheDir: t.TempDir()}
	f := download.File{Path: "w.bin", URL: url, Size: -1, Sum: download.Checksum{Algo: download.SHA256Prefix, Value: sum[:8]}}
	dir := t.TempDir()
	if _, err := e.Fetch(context.Background(), dir, []download.File{f}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "w.bin"))
	if !bytes.Equal(got, data) {
		t.Fatal("file differs")
	}
	// Cached by the prefix index: no request the second time.
	gets := srv.gets.Load()
	st, err := e.Fetch(context.Background(), t.TempDir(), []download.File{f})
	if err != nil || st.Cached != 1 || srv.gets.Load() != gets {
		t.Fatalf("second fetch: %v, %+v", err, st)
	}
}

func TestGitBlobIDAndMismatch(t *testing.T) {
	data := []byte("{\"hello\": \"world\"}\n")
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	defer ts.Close()
	e := &download.Engine{CacheDir: t.TempDir()}
	// `printf '{"hello": "world"}\n' | git hash-object --stdin`
	good := download.File{Path: "c.json", URL: ts.URL, Size: int64(len(data)), Sum: download.Checksum{Algo: download.GitSHA1, Value: "56c8e280338ea64e1ab62ef9bacdf02840a0dabb"}}
	bad := good
	bad.Path, bad.Sum.Value = "d.json", strings.Repeat("1", 40)
	if _, err := e.Fetch(context.Background(), t.TempDir(), []download.File{bad}); !errors.Is(err, adapters.ErrChecksum) {
		t.Fatalf("wrong git id: %v", err)
	}
	if _, err := e.Fetch(context.Background(), t.TempDir(), []download.File{good}); err != nil {
		t.Fatalf("git blob id: %v", err)
	}
}

func TestAuthorizationStaysOnOrigin(t *testing.T) {
	var leaked atomic.Int32
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		w.Write([]byte("payload"))
	}))
	defer cdn.Close()
	// Same IP, another port: another host for the purpose of credentials.
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, cdn.URL+"/blob", http.StatusFound)
	}))
	defer hub.Close()
	req, _ := http.NewRequest(http.MethodGet, hub.URL, nil)
	req.Header.Set("Authorization", "Bearer secret")
	resp, chain, err := download.Do(http.DefaultClient, req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(chain) != 2 || chain[0].StatusCode != http.StatusFound {
		t.Fatalf("status %d, chain %d", resp.StatusCode, len(chain))
	}
	if leaked.Load() != 0 {
		t.Fatal("Authorization was sent to the redirect target on another host")
	}
}

func TestStalePartialIsRedownloaded(t *testing.T) {
	data, sum := payload(2 << 20)
	srv := &server{data: data, after: 1 << 20}
	url := srv.start(t, 1)
	cache := t.TempDir()
	f := download.File{Path: "w.bin", URL: url, Size: int64(len(data)), Sum: download.Checksum{Algo: download.SHA256, Value: sum}}
	if _, err := (&download.Engine{CacheDir: cache, Retries: -1}).Fetch(context.Background(), t.TempDir(), []download.File{f}); err == nil {
		t.Fatal("cut download succeeded")
	}
	parts, _ := filepath.Glob(filepath.Join(cache, "partial", "*.part"))
	if len(parts) != 1 {
		t.Fatalf("partial files: %v", parts)
	}
	// The kept prefix no longer matches the file (it changed between runs).
	if err := os.WriteFile(parts[0], bytes.Repeat([]byte{0xee}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := (&download.Engine{CacheDir: cache}).Fetch(context.Background(), dir, []download.File{f}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "w.bin")); !bytes.Equal(got, data) {
		t.Fatal("file differs")
	}
}

func TestTransientErrorsRetried(t *testing.T) {
	data, sum := payload(1000)
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.Write(data)
		}
	}))
	defer ts.Close()
	f := download.File{Path: "w", URL: ts.URL, Size: 1000, Sum: download.Checksum{Algo: download.SHA256, Value: sum}}
	if _, err := (&download.Engine{CacheDir: t.TempDir()}).Fetch(context.Background(), t.TempDir(), []download.File{f}); err != nil || calls.Load() != 3 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
	// A 404 is final.
	calls.Store(0)
	nf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); http.NotFound(w, r) }))
	defer nf.Close()
	f.URL = nf.URL
	f.Path = "x"
	if _, err := (&download.Engine{CacheDir: t.TempDir()}).Fetch(context.Background(), t.TempDir(), []download.File{f}); !errors.Is(err, adapters.ErrNotFound) || calls.Load() != 1 {
		t.Fatalf("404: %v after %d calls", err, calls.Load())
	}
}

// A hub that cannot be reached is one line naming it, not Go's
// `Get "URL": dial tcp ...`; the cause stays reachable.
func TestUnreachableHub(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close() // nothing listens there now
	f := download.File{Path: "w", URL: url + "/w", Size: 3, Sum: download.Checksum{Algo: download.SHA256, Value: strings.Repeat("0", 64)}}
	_, err := (&download.Engine{CacheDir: t.TempDir()}).Fetch(context.Background(), t.TempDir(), []download.File{f})
	var ue *download.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("fetch from a closed port: %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "cannot reach "+url+" (connection refused)") || strings.Contains(msg, "dial tcp") || strings.Contains(msg, `Get "`) {
		t.Errorf("error %q", msg)
	}
}
