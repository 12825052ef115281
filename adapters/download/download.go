// Package download is the download engine shared by every hub adapter: files in
// parallel, resumable with HTTP Range after a cut connection (in the same run or
// the next), each verified against the hub's checksum before use, and cached by
// content digest so that fetching the same revision again downloads nothing.
package download

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/internal/fsutil"
)

// Checksum algorithms a hub can give for a file.
const (
	SHA256       = "sha256"        // LFS oid, ModelScope Sha256
	GitSHA1      = "gitsha1"       // git blob id (HF ETag of a regular file)
	SHA256Prefix = "sha256-prefix" // torchvision-style file names: name-<first hex of sha256>.pth
	// None: the hub gives no checksum; the URL must name an immutable revision,
	// and the cache is keyed by it.
	None = ""
)

// Checksum is what a file must hash to.
type Checksum struct {
	Algo  string
	Value string // lower-case hex
}

func (c Checksum) String() string { return c.Algo + ":" + c.Value }

// File is one file to fetch.
type File struct {
	Path   string // relative destination path, '/' separators
	URL    string
	Size   int64 // -1 when unknown
	Sum    Checksum
	Header http.Header // sent to URL's host only, never to a redirect target on another host
	// Check, when set, sees the headers of every response in the redirect chain
	// (hub first, CDN last) and may refuse them, e.g. a commit that moved.
	Check func(chain []*http.Response) error
	// Error, when set, turns a failed response into the hub's own message.
	Error func(resp *http.Response) error
	// Local, when set, is a copy already on this machine (the huggingface_hub
	// cache). It is only read: when its size and checksum match it is copied into
	// the cache instead of downloading, otherwise it is ignored.
	Local string
}

// Progress reports per-file progress (the CLI shows bars).
type Progress interface {
	Track(name string, total int64) Tracker
}

// Tracker is one file's progress.
type Tracker interface {
	Add(n int)
	Done(err error)
}

// Engine downloads files into a directory through a digest-addressed cache.
type Engine struct {
	CacheDir string       // index/<algo>/<value>; with Blobs nil also blobs/sha256/<hex>, partial/
	Client   *http.Client // nil: a client with no transparent decompression
	Parallel int          // files at once, default 4
	Retries  int          // resumes after a cut connection in this run: 0 means 5, <0 none
	Progress Progress     // nil: none
	Log      *slog.Logger
	// Blobs, when set, files verified downloads elsewhere than CacheDir:
	// install gives the local store, so a downloaded file already is the
	// package layer and is never copied again.
	Blobs Blobs
	// Offline sends no request: a file neither cached nor verified from its
	// Local copy fails with ErrOffline.
	Offline bool
}

// Blobs is a content-addressed (sha256) home for verified files, written
// only through its own verifying Writer (localstore.Store is one).
type Blobs interface {
	// Writer opens a writer that hashes what it is given and files it under
	// that digest at Commit; a non-empty key is a partial file a later Writer
	// with the same key continues (one at a time, also across processes).
	Writer(ctx context.Context, key string) (*fsutil.Writer, error)
	// Stat reports a blob's size; false when it is absent.
	Stat(d digest.Digest) (int64, bool)
	// Place puts a blob's content at dst (a hard link where it can).
	Place(ctx context.Context, d digest.Digest, dst string) error
}

// dirBlobs is the engine's own cache: CacheDir/blobs/sha256/<hex>, partial
// downloads in CacheDir/partial.
type dirBlobs struct{ root string }

func (b dirBlobs) path(d digest.Digest) string {
	return filepath.Join(b.root, "blobs", d.Algorithm().String(), d.Encoded())
}

func (b dirBlobs) Writer(ctx context.Context, key string) (*fsutil.Writer, error) {
	return fsutil.NewWriter(ctx, filepath.Join(b.root, "partial"), key, b.path)
}

func (b dirBlobs) Stat(d digest.Digest) (int64, bool) {
	fi, err := os.Stat(b.path(d))
	if err != nil || !fi.Mode().IsRegular() {
		return 0, false
	}
	return fi.Size(), true
}

func (b dirBlobs) Place(ctx context.Context, d digest.Digest, dst string) error {
	return fsutil.Place(ctx, b.path(d), dst)
}

// ErrOffline is returned for a file that would have to be downloaded while the
// engine is offline (HF_HUB_OFFLINE=1).
var ErrOffline = errors.New("offline and not cached")

// Stats says what a Fetch did.
type Stats struct {
	Files           int
	Downloaded      int   // files that came over the network
	Cached          int   // files reused from the cache (Local ones included)
	Local           int   // files copied from their File.Local copy
	DownloadedBytes int64 // bytes that came over the network
	Bytes           int64 // total size of the files
}

// New returns an engine caching under dir.
func New(cacheDir string) *Engine { return &Engine{CacheDir: cacheDir} }

var defaultClient = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Hubs serve raw bytes; a transparently gunzipped body would not match sizes or ranges.
	t.DisableCompression = true
	t.MaxIdleConnsPerHost = 16
	// A hub that accepts the connection and then says nothing should not hang an install.
	t.ResponseHeaderTimeout = 2 * time.Minute
	return t
}()}

// HTTPClient is the client the engine downloads with; adapters use it for the
// hub's API too (no transparent decompression, a response header timeout).
func (e *Engine) HTTPClient() *http.Client { return e.client() }

func (e *Engine) client() *http.Client {
	if e.Client != nil {
		return e.Client
	}
	return defaultClient
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Fetch places every file in dir, verified, downloading only what the cache lacks.
func (e *Engine) Fetch(ctx context.Context, dir string, files []File) (Stats, error) {
	var st Stats
	seen := map[string]bool{}
	for _, f := range files {
		if _, err := SafeJoin(dir, f.Path); err != nil {
			return st, err
		}
		if seen[f.Path] {
			return st, fmt.Errorf("download: %s listed twice", f.Path)
		}
		seen[f.Path] = true
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	n := e.Parallel
	if n <= 0 {
		n = 4
	}
	g.SetLimit(n)
	for _, f := range files {
		g.Go(func() error {
			res, err := e.fetchOne(gctx, dir, f)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			st.Files++
			st.Bytes += res.size
			if res.local {
				st.Local++
			}
			if res.cached {
				st.Cached++
			} else {
				st.Downloaded++
				st.DownloadedBytes += res.network
			}
			return nil
		})
	}
	err := g.Wait()
	return st, err
}

type result struct {
	local   bool // cached from File.Local
	cached  bool
	size    int64
	network int64
}

func (e *Engine) blobs() Blobs {
	if e.Blobs != nil {
		return e.Blobs
	}
	return dirBlobs{e.CacheDir}
}

func sha256Digest(hex string) digest.Digest { return digest.NewDigestFromEncoded(digest.SHA256, hex) }

// key names a file in the cache before its sha256 is known.
func key(f File) string {
	if f.Sum.Algo == None {
		h := sha256.Sum256([]byte(f.URL))
		return "url/" + hex.EncodeToString(h[:])
	}
	return f.Sum.Algo + "/" + f.Sum.Value
}

func validSum(c Checksum) error {
	switch c.Algo {
	case None:
		return nil
	case SHA256, GitSHA1, SHA256Prefix:
	default:
		return fmt.Errorf("unknown checksum algorithm %q", c.Algo)
	}
	if c.Value == "" || len(c.Value) > 64 {
		return fmt.Errorf("bad %s checksum %q", c.Algo, c.Value)
	}
	if _, err := hex.DecodeString(padEven(c.Value)); err != nil {
		return fmt.Errorf("bad %s checksum %q", c.Algo, c.Value)
	}
	return nil
}

func padEven(s string) string {
	if len(s)%2 == 1 {
		return s + "0"
	}
	return s
}

// lookup finds a cached blob for f.
func (e *Engine) lookup(f File) (string, bool) {
	var sha string
	if f.Sum.Algo == SHA256 {
		sha = f.Sum.Value
	} else {
		b, err := os.ReadFile(filepath.Join(e.CacheDir, "index", filepath.FromSlash(key(f))))
		if err != nil {
			return "", false
		}
		sha = strings.TrimSpace(string(b))
	}
	if len(sha) != 64 {
		return "", false
	}
	size, ok := e.blobs().Stat(sha256Digest(sha))
	if !ok || (f.Size >= 0 && size != f.Size) {
		return "", false
	}
	return sha, true
}

func (e *Engine) fetchOne(ctx context.Context, dir string, f File) (result, error) {
	if err := validSum(f.Sum); err != nil {
		return result{}, fmt.Errorf("download %s: %w", f.Path, err)
	}
	dst, _ := SafeJoin(dir, f.Path)
	if sha, ok := e.lookup(f); ok {
		size, ok := e.blobs().Stat(sha256Digest(sha))
		if !ok {
			return result{}, fmt.Errorf("download %s: cached blob %s vanished", f.Path, sha)
		}
		if err := e.blobs().Place(ctx, sha256Digest(sha), dst); err != nil {
			return result{}, fmt.Errorf("download %s: %w", f.Path, err)
		}
		e.log().Debug("cached", "file", f.Path, "sha256", sha)
		return result{cached: true, size: size}, nil
	}
	if f.Local != "" {
		sha, size, err := e.adopt(ctx, f)
		if err == nil {
			if err := e.blobs().Place(ctx, sha256Digest(sha), dst); err != nil {
				return result{}, fmt.Errorf("download %s: %w", f.Path, err)
			}
			e.log().Debug("from local copy", "file", f.Path, "local", f.Local, "sha256", sha)
			return result{cached: true, size: size, local: true}, nil
		}
		if e.Offline {
			return result{}, fmt.Errorf("download %s: %w: the copy at %s does not verify: %v", f.Path, ErrOffline, f.Local, err)
		}
		e.log().Info("local copy does not verify; downloading", "file", f.Path, "local", f.Local, "err", err)
	}
	if e.Offline {
		return result{}, fmt.Errorf("download %s: %w", f.Path, ErrOffline)
	}
	sha, size, network, err := e.download(ctx, f)
	if err != nil {
		return result{}, fmt.Errorf("download %s: %w", f.Path, err)
	}
	if err := e.blobs().Place(ctx, sha256Digest(sha), dst); err != nil {
		return result{}, fmt.Errorf("download %s: %w", f.Path, err)
	}
	return result{size: size, network: network}, nil
}

// hashers computes the hub's checksum when it is not the sha256 that the
// blob writer computes anyway (the cache key): a git blob id.
type hashers struct {
	git hash.Hash // nil unless the checksum is a git blob id
}

func newHashers(f File, size int64) *hashers {
	h := &hashers{}
	if f.Sum.Algo == GitSHA1 && size >= 0 {
		h.git = sha1.New()
		fmt.Fprintf(h.git, "blob %d\x00", size)
	}
	return h
}

func (h *hashers) Write(p []byte) (int, error) {
	if h.git != nil {
		h.git.Write(p)
	}
	return len(p), nil
}

// verify checks f's checksum, given the sha256 (hex) of the content.
func (h *hashers) verify(f File, sha string) (string, error) {
	var got string
	switch f.Sum.Algo {
	case None:
		return sha, nil
	case SHA256:
		got = sha
	case SHA256Prefix:
		got = sha[:min(len(f.Sum.Value), 64)]
	case GitSHA1:
		if h.git == nil {
			return "", fmt.Errorf("%w: size unknown for git blob id", adapters.ErrChecksum)
		}
		got = hex.EncodeToString(h.git.Sum(nil))
	}
	if !strings.EqualFold(got, f.Sum.Value) {
		return "", fmt.Errorf("%w: %s is %s, the hub says %s", adapters.ErrChecksum, f.Sum.Algo, got, f.Sum.Value)
	}
	return sha, nil
}

// errRetry marks failures that resuming can cure (a cut connection).
type errRetry struct{ err error }

func (e errRetry) Error() string { return e.err.Error() }
func (e errRetry) Unwrap() error { return e.err }

func (e *Engine) download(ctx context.Context, f File) (sha string, size, network int64, err error) {
	k := sha256.Sum256([]byte(key(f)))
	// One writer per partial file: two installs of the same model share the
	// cache; waiting for the other ends with ctx (ctrl-C).
	w, err := e.blobs().Writer(ctx, hex.EncodeToString(k[:16])+".part")
	if err != nil {
		return "", 0, 0, err
	}
	defer w.Close()
	if s, ok := e.lookup(f); ok { // another process finished it meanwhile
		size, _ := e.blobs().Stat(sha256Digest(s))
		return s, size, 0, nil
	}
	var tr Tracker
	if e.Progress != nil {
		tr = e.Progress.Track(f.Path, f.Size)
	}
	retries := e.Retries
	switch {
	case retries == 0:
		retries = 5
	case retries < 0:
		retries = 0
	}
	for attempt := 0; ; attempt++ {
		var n int64
		sha, size, n, err = e.attempt(ctx, f, w, tr, attempt == 0)
		network += n
		var re errRetry
		if err == nil || !errors.As(err, &re) || attempt >= retries || ctx.Err() != nil {
			break
		}
		e.log().Info("resuming download", "file", f.Path, "after", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	if tr != nil {
		tr.Done(err)
	}
	if err != nil {
		return "", 0, network, err
	}
	return sha, size, network, nil
}

// attempt downloads (the rest of) f into the partial blob w, verifies the
// hub's checksum and commits it (the writer checks size and sha256 again).
func (e *Engine) attempt(ctx context.Context, f File, out *fsutil.Writer, tr Tracker, first bool) (string, int64, int64, error) {
	have := out.Offset()
	if f.Size >= 0 && have > f.Size {
		have = 0
	}
	resp, chain, err := e.get(ctx, f, have)
	if err != nil {
		return "", 0, 0, errRetry{err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return "", 0, 0, fmt.Errorf("server resumed at the wrong offset (%s)", resp.Header.Get("Content-Range"))
		}
		if f.Size < 0 {
			f.Size = total
		}
	case resp.StatusCode == http.StatusOK:
		have = 0
		if f.Size < 0 {
			f.Size = resp.ContentLength
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The partial file is no prefix of this file: start over.
		_ = out.Truncate()
		return "", 0, 0, errRetry{fmt.Errorf("range not satisfiable")}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		// Rate limits and passing server trouble: worth another try.
		return "", 0, 0, errRetry{statusError(f, resp)}
	default:
		return "", 0, 0, statusError(f, resp)
	}
	if f.Check != nil {
		if err := f.Check(chain); err != nil {
			return "", 0, 0, err
		}
	}
	if have == 0 && out.Offset() > 0 {
		if err := out.Truncate(); err != nil {
			return "", 0, 0, err
		}
	}
	h := newHashers(f, f.Size)
	if have > 0 && h.git != nil {
		if _, err := io.Copy(h, io.NewSectionReader(out, 0, have)); err != nil {
			return "", 0, 0, err
		}
	}
	if tr != nil && have > 0 && first { // resumed from an earlier run
		tr.Add(int(have))
	}
	n, cerr := pipeCopy(out, h, resp.Body, tr)
	if cerr != nil {
		return "", 0, n, errRetry{fmt.Errorf("connection cut after %d bytes: %w", have+n, cerr)}
	}
	total := have + n
	if f.Size >= 0 && total != f.Size {
		if total < f.Size {
			return "", 0, n, errRetry{fmt.Errorf("short body: %d of %d bytes", total, f.Size)}
		}
		_ = out.Truncate()
		return "", 0, n, fmt.Errorf("%w: %d bytes, the hub says %d", adapters.ErrChecksum, total, f.Size)
	}
	sha, err := h.verify(f, out.Digest().Encoded())
	if err != nil {
		_ = out.Truncate() // a wrong file is not worth resuming
		if have > 0 {
			// The kept prefix may be what was wrong (a file replaced between
			// runs): one more try from the first byte.
			return "", 0, n, errRetry{err}
		}
		return "", 0, n, err
	}
	if _, err := out.Commit(ctx, total, sha256Digest(sha)); err != nil {
		return "", 0, n, err
	}
	if f.Sum.Algo != SHA256 {
		idx := filepath.Join(e.CacheDir, "index", filepath.FromSlash(key(f)))
		if err := os.MkdirAll(filepath.Dir(idx), 0o755); err != nil {
			return "", 0, n, err
		}
		if err := os.WriteFile(idx, []byte(sha+"\n"), 0o644); err != nil {
			return "", 0, n, err
		}
	}
	return sha, total, n, nil
}

// adopt verifies f.Local (size, then the checksum while copying it) and files
// the copy in the cache; the original is only read.
func (e *Engine) adopt(ctx context.Context, f File) (string, int64, error) {
	if f.Sum.Algo == None {
		return "", 0, errors.New("no checksum to verify a local copy with")
	}
	in, err := os.Open(f.Local)
	if err != nil {
		return "", 0, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return "", 0, err
	}
	if !fi.Mode().IsRegular() || (f.Size >= 0 && fi.Size() != f.Size) {
		return "", 0, fmt.Errorf("%w: %d bytes, the hub says %d", adapters.ErrChecksum, fi.Size(), f.Size)
	}
	tmp, err := e.blobs().Writer(ctx, "")
	if err != nil {
		return "", 0, err
	}
	defer tmp.Close()
	h := newHashers(f, fi.Size())
	n, err := pipeCopy(tmp, h, fsutil.ContextReader(ctx, in), nil)
	if err != nil {
		return "", 0, err
	}
	sha, err := h.verify(f, tmp.Digest().Encoded())
	if err != nil {
		return "", 0, err
	}
	if _, err := tmp.Commit(ctx, n, sha256Digest(sha)); err != nil {
		return "", 0, err
	}
	if f.Sum.Algo != SHA256 {
		idx := filepath.Join(e.CacheDir, "index", filepath.FromSlash(key(f)))
		if err := os.MkdirAll(filepath.Dir(idx), 0o755); err != nil {
			return "", 0, err
		}
		if err := os.WriteFile(idx, []byte(sha+"\n"), 0o644); err != nil {
			return "", 0, err
		}
	}
	return sha, n, nil
}

// pipeCopy writes body to out while another goroutine hashes what was written,
// so that hashing (the slowest step with a fast network) overlaps the file writes.
func pipeCopy(out, h io.Writer, body io.Reader, tr Tracker) (int64, error) {
	const nbuf, size = 4, 1 << 20
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- make([]byte, size)
	}
	toHash := make(chan []byte, nbuf)
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range toHash {
			h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	var total int64
	var err error
	for done := false; !done; {
		buf := <-free
		n := 0
		for n < len(buf) && err == nil {
			var m int
			m, err = body.Read(buf[n:])
			n += m
		}
		if err == io.EOF {
			err, done = nil, true
		} else if err != nil {
			done = true
		}
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil && err == nil {
				err, done = werr, true
			}
			total += int64(n)
			if tr != nil {
				tr.Add(n)
			}
		}
		toHash <- buf[:n]
	}
	close(toHash)
	<-hashed
	return total, err
}

func contentRange(s string) (start, total int64, ok bool) {
	// bytes START-END/TOTAL
	s, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

// get sends the request, keeps f.Header away from other hosts, and returns the
// final response together with every response of the redirect chain.
func (e *Engine) get(ctx context.Context, f File, from int64) (*http.Response, []*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range f.Header {
		req.Header[k] = v
	}
	req.Header.Set("Accept-Encoding", "identity")
	if from > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
	}
	resp, chain, err := Do(e.client(), req)
	return resp, chain, err
}

// Do sends req following redirects like http.Client, but strips Authorization
// (and every header given for the origin) when a redirect leaves the origin host,
// and returns the responses of the redirect chain.
func Do(c *http.Client, req *http.Request) (*http.Response, []*http.Response, error) {
	origin := req.URL.Host
	var chain []*http.Response
	cc := *c
	cc.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if r.Response != nil {
			chain = append(chain, r.Response)
		}
		if r.URL.Host != origin {
			r.Header.Del("Authorization")
			r.Header.Del("Cookie")
		}
		return nil
	}
	resp, err := cc.Do(req)
	if err != nil {
		return nil, chain, unreachable(err)
	}
	return resp, append(chain, resp), nil
}

// UnreachableError: the hub could not be reached at all (no such host,
// connection refused). It says so in one line instead of Go's
// `Get "URL": dial tcp ...` and keeps the cause for errors.Is/As.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	why := e.Err.Error()
	var dns *net.DNSError
	var sys *os.SyscallError
	switch {
	case errors.As(e.Err, &dns):
		why = "no such host"
	case errors.As(e.Err, &sys):
		why = sys.Err.Error()
	}
	return fmt.Sprintf("cannot reach %s (%s); check the network and the hub address", e.Host, why)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

func unreachable(err error) error {
	var ue *url.Error
	var oe *net.OpError
	if errors.As(err, &ue) && errors.As(err, &oe) && oe.Op == "dial" {
		host := ue.URL
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Scheme + "://" + u.Host
		}
		return &UnreachableError{Host: host, Err: err}
	}
	return err
}

func statusError(f File, resp *http.Response) error {
	if f.Error != nil {
		if err := f.Error(resp); err != nil {
			return err
		}
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %s (HTTP 404)", adapters.ErrNotFound, redact(resp.Request.URL.String()))
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %s (HTTP %d)", adapters.ErrAuth, redact(resp.Request.URL.String()), resp.StatusCode)
	}
	return fmt.Errorf("GET %s: HTTP %d", redact(resp.Request.URL.String()), resp.StatusCode)
}

// redact drops query strings, which on CDNs carry signatures.
func redact(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// SafeJoin joins a hub-supplied relative path to dir, refusing absolute paths,
// '..' elements, backslashes and anything else that would leave dir.
func SafeJoin(dir, rel string) (string, error) {
	bad := rel == "" || strings.HasPrefix(rel, "/") || strings.Contains(rel, "\\") || strings.ContainsRune(rel, 0) ||
		filepath.IsAbs(rel) || (len(rel) > 1 && rel[1] == ':')
	if !bad {
		for _, p := range strings.Split(rel, "/") {
			if p == ".." || p == "" || p == "." {
				bad = true
			}
		}
	}
	if bad {
		return "", fmt.Errorf("%w: %q would escape the target directory", adapters.ErrUnsafe, rel)
	}
	return filepath.Join(dir, filepath.FromSlash(rel)), nil
}
