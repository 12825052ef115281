package server

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	dto "github.com/prometheus/client_model/go"
)

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, cl *http.Client, method, u string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Range, If-None-Match and If-Range on blobs, as caches and resuming
// clients send them.
func TestBlobRangeAndConditional(t *testing.T) {
	ts := startServer(t, fsDriver(t), Config{})
	blob := randBytes(100_000)
	d := pushBlob(t, ts.URL, "team/model", blob)
	u := ts.URL + "/v2/team/model/blobs/" + d.String()
	etag := `"` + d.String() + `"`

	resp, b := get(t, http.DefaultClient, "GET", u, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, blob) || resp.Header.Get("ETag") != etag {
		t.Fatalf("GET: %d, %d bytes, ETag %q", resp.StatusCode, len(b), resp.Header.Get("ETag"))
	}
	cases := []struct {
		name   string
		hdr    map[string]string
		status int
		want   []byte
	}{
		{"range", map[string]string{"Range": "bytes=1000-1999"}, 206, blob[1000:2000]},
		{"open range", map[string]string{"Range": "bytes=99990-"}, 206, blob[99990:]},
		{"suffix range", map[string]string{"Range": "bytes=-10"}, 206, blob[len(blob)-10:]},
		{"if-none-match same", map[string]string{"If-None-Match": etag}, 304, nil},
		{"if-none-match list", map[string]string{"If-None-Match": `"sha256:00", W/` + etag}, 304, nil},
		{"if-none-match star", map[string]string{"If-None-Match": "*"}, 304, nil},
		{"if-none-match other", map[string]string{"If-None-Match": `"sha256:00"`}, 200, blob},
		{"if-range same", map[string]string{"Range": "bytes=10-19", "If-Range": etag}, 206, blob[10:20]},
		{"if-range other", map[string]string{"Range": "bytes=10-19", "If-Range": `"sha256:00"`}, 200, blob},
	}
	for _, c := range cases {
		resp, b := get(t, http.DefaultClient, "GET", u, c.hdr)
		if resp.StatusCode != c.status || !bytes.Equal(b, c.want) {
			t.Errorf("%s: %d with %d bytes, want %d with %d", c.name, resp.StatusCode, len(b), c.status, len(c.want))
		}
	}
	resp, _ = get(t, http.DefaultClient, "HEAD", u, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 {
		t.Errorf("HEAD If-None-Match: %d, want 304", resp.StatusCode)
	}
	// an unknown blob is 404 whatever the conditions say
	resp, _ = get(t, http.DefaultClient, "GET", ts.URL+"/v2/team/model/blobs/sha256:"+strings.Repeat("1", 64), map[string]string{"If-None-Match": "*"})
	if resp.StatusCode != 404 {
		t.Errorf("unknown blob with If-None-Match *: %d, want 404", resp.StatusCode)
	}
}

func TestStorageRedirectNeedsS3(t *testing.T) {
	st := startServer(t, fsDriver(t), Config{}).Store
	if _, err := New(Config{Store: st, StorageRedirect: time.Minute}); err == nil || !strings.Contains(err.Error(), "S3") {
		t.Fatalf("redirects over filesystem storage: %v, want an error naming S3", err)
	}
}

// With StorageRedirect, blob GETs are 307s to presigned versitygw URLs: the
// bytes (ranges included) come from the bucket, oras follows, and the
// registry sends no blob bytes itself.
func TestStorageRedirect(t *testing.T) {
	d := s3Driver(t)
	ts := startServer(t, d, Config{StorageRedirect: time.Minute})
	blob := randBytes(300_000)
	dg := pushBlob(t, ts.URL, "team/model", blob)
	u := ts.URL + "/v2/team/model/blobs/" + dg.String()

	resp, _ := get(t, noFollow, "GET", u, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect || loc == "" || resp.Header.Get("Docker-Content-Digest") != dg.String() {
		t.Fatalf("GET: %d Location %q digest %q, want a 307", resp.StatusCode, loc, resp.Header.Get("Docker-Content-Digest"))
	}
	lu, err := url.Parse(loc)
	if err != nil || lu.Host == ts.Host || lu.Query().Get("X-Amz-Signature") == "" {
		t.Fatalf("Location %q is not a presigned storage URL", loc)
	}
	resp, b := get(t, http.DefaultClient, "GET", u, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, blob) {
		t.Fatalf("GET through the redirect: %d, %d bytes", resp.StatusCode, len(b))
	}
	resp, b = get(t, http.DefaultClient, "GET", u, map[string]string{"Range": "bytes=5-104"})
	if resp.StatusCode != 206 || !bytes.Equal(b, blob[5:105]) {
		t.Fatalf("Range through the redirect: %d, %d bytes", resp.StatusCode, len(b))
	}
	// HEAD and conditionals are answered here; unknown blobs are not redirected
	resp, _ = get(t, noFollow, "HEAD", u, nil)
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(blob)) {
		t.Fatalf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
	}
	resp, _ = get(t, noFollow, "GET", u, map[string]string{"If-None-Match": `"` + dg.String() + `"`})
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	resp, _ = get(t, noFollow, "GET", ts.URL+"/v2/team/model/blobs/sha256:"+strings.Repeat("2", 64), nil)
	if resp.StatusCode != 404 {
		t.Fatalf("unknown blob: %d, want 404", resp.StatusCode)
	}
	// another repository does not hold the blob: no URL for it
	resp, _ = get(t, noFollow, "GET", ts.URL+"/v2/other/repo/blobs/"+dg.String(), nil)
	if resp.StatusCode != 404 {
		t.Fatalf("blob of another repository: %d, want 404", resp.StatusCode)
	}

	// the real oras CLI pushes through the registry and pulls through the redirect
	oras := testutil.Tool(t, "oras")
	dir := t.TempDir()
	payload := randBytes(2 << 20)
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(oras, "push", "--plain-http", ts.Host+"/team/model:v1", "weights.bin")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oras push: %v\n%s", err, out)
	}
	before := counter(t, ts.Srv)
	out := t.TempDir()
	if b, err := exec.Command(oras, "pull", "--plain-http", "-o", out, ts.Host+"/team/model:v1").CombinedOutput(); err != nil {
		t.Fatalf("oras pull: %v\n%s", err, b)
	}
	got, err := os.ReadFile(filepath.Join(out, "weights.bin"))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("oras pull through the redirect: %v, %d bytes", err, len(got))
	}
	// only the manifest (a few hundred bytes) came from the registry
	if sent := counter(t, ts.Srv) - before; sent > 4096 {
		t.Fatalf("the registry sent %v bytes during a redirected pull", sent)
	}
}

// A presigned URL stops working when it expires; asking the registry again
// gives a fresh one.
func TestStorageRedirectExpired(t *testing.T) {
	ts := startServer(t, s3Driver(t), Config{StorageRedirect: time.Second})
	blob := randBytes(1000)
	dg := pushBlob(t, ts.URL, "team/model", blob)
	u := ts.URL + "/v2/team/model/blobs/" + dg.String()
	resp, _ := get(t, noFollow, "GET", u, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("GET: %d, want 307", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// SigV4 expiry has one-second resolution: wait until it has surely passed
	select {
	case <-time.After(2500 * time.Millisecond):
	case <-ctx.Done():
	}
	resp, b := get(t, http.DefaultClient, "GET", loc, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("expired presigned URL: %d %s, want 403", resp.StatusCode, b)
	}
	resp, b = get(t, http.DefaultClient, "GET", u, nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, blob) {
		t.Fatalf("GET after expiry: %d, %d bytes", resp.StatusCode, len(b))
	}
}

func counter(t *testing.T, s *Server) float64 {
	t.Helper()
	var m dto.Metric
	if err := s.metrics.bytesOut.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// With auth on, oras sends its bearer token to the registry; the redirect
// goes to the bucket on another port of the same host, where Go clients keep
// the Authorization header. The pull must still work.
func TestStorageRedirectWithAuth(t *testing.T) {
	ts := startServer(t, s3Driver(t), Config{StorageRedirect: time.Minute, Htpasswd: htpasswd(t, "alice", "secret")})
	oras := testutil.Tool(t, "oras")
	dir := t.TempDir()
	payload := randBytes(1 << 20)
	if err := os.WriteFile(filepath.Join(dir, "weights.bin"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(oras, "push", "--plain-http", "-u", "alice", "-p", "secret", ts.Host+"/team/model:v1", "weights.bin")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oras push: %v\n%s", err, out)
	}
	out := t.TempDir()
	if b, err := exec.Command(oras, "pull", "--plain-http", "-u", "alice", "-p", "secret", "-o", out, ts.Host+"/team/model:v1").CombinedOutput(); err != nil {
		t.Fatalf("oras pull through the redirect with auth: %v\n%s", err, b)
	}
	got, err := os.ReadFile(filepath.Join(out, "weights.bin"))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("pulled %d bytes, %v", len(got), err)
	}
}

// The OCI conformance suite passes with blob GETs redirected to the bucket.
func TestConformanceS3Redirect(t *testing.T) {
	ts := startServer(t, s3Driver(t), Config{StorageRedirect: time.Minute})
	runConformance(t, ts.Host)
}
