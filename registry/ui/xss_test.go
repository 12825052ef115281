package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/server"
	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
)

// xssPage is valid manifest JSON that a browser told "text/html" runs.
const xssPage = `{"schemaVersion":2,"annotations":{"x":"<script>document.title='pwned';window.__xss=1</script><img src=x onerror=\"document.title='pwned'\">"}}`

// TestManifestURLRunsNoScript: a registry (API and UI on one origin) refuses an
// HTML "manifest", and a browser opening manifest URLs runs no script: neither
// for a real manifest carrying markup in an annotation, nor for an HTML body
// that got into storage before media types were checked.
func TestManifestURLRunsNoScript(t *testing.T) {
	d, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := repostore.New(d, repostore.Options{Logger: log})
	srv, err := server.New(server.Config{Store: st, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	base := hs.URL + "/v2/x/page/manifests/"

	// the stored-XSS push of the issue: refused
	resp, err := http.DefaultClient.Do(mustReq(t, "PUT", base+"v1", "text/html", []byte(xssPage)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("PUT text/html manifest: %s, want 400 MANIFEST_INVALID", resp.Status)
	}

	// a valid OCI manifest with markup in an annotation
	ctx := context.Background()
	cfg := []byte("{}")
	if _, err := st.PutBlob(ctx, "x/page", digest.FromBytes(cfg), int64(len(cfg)), bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: ocispec.DescriptorEmptyJSON,
		Layers: []ocispec.Descriptor{}, Annotations: map[string]string{"org.opencontainers.image.description": xssPage}}
	m.SchemaVersion = 2
	mb, _ := json.Marshal(m)
	resp, err = http.DefaultClient.Do(mustReq(t, "PUT", base+"v2", ocispec.MediaTypeImageManifest, mb))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT OCI manifest: %s", resp.Status)
	}

	// an HTML body stored as text/html by an older registry, written straight into storage
	legacy := digest.FromBytes([]byte(xssPage))
	hex := legacy.Encoded()
	d.PutContent(ctx, "blobs/sha256/"+hex[:2]+"/"+hex+"/data", []byte(xssPage))
	link, _ := json.Marshal(ocispec.Descriptor{MediaType: "text/html", Digest: legacy, Size: int64(len(xssPage))})
	d.PutContent(ctx, "repositories/x/page/_manifests/revisions/sha256/"+hex+"/link", link)
	d.PutContent(ctx, "repositories/x/page/_manifests/tags/legacy/current/link", link)

	for _, ref := range []string{"v2", "legacy", legacy.String()} {
		resp, err := http.Get(base + ref)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", ref, resp.Status)
		}
		h := resp.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || strings.Contains(h.Get("Content-Type"), "html") {
			t.Fatalf("GET %s: headers %v", ref, h)
		}
	}

	b := newBrowser(t)
	for _, ref := range []string{"v2", "legacy", legacy.String()} {
		// a download (application/octet-stream) aborts the navigation: nothing renders, nothing runs
		if err := chromedp.Do(b.ctx, chromedp.Navigate(base+ref)); err != nil && !strings.Contains(err.Error(), "ERR_ABORTED") {
			t.Fatalf("open %s: %v", ref, err)
		}
		if eval[bool](b, `window.__xss !== undefined || document.title === "pwned"`) {
			t.Fatalf("opening the manifest URL %s ran its script", base+ref)
		}
	}
}

func mustReq(t *testing.T, method, url, ct string, body []byte) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", ct)
	return r
}
