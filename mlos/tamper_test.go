package mlos_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content"
)

// A registry (here CNCF Distribution behind a proxy that alters one blob)
// whose bytes do not match the digest is refused with a 422 whose cause is
// oras-go's content.ErrMismatchedDigest, reachable with errors.Is; one whose
// answer contradicts the manifest's size is an upstream that failed: a 502.
func TestTamperedRegistryRefused(t *testing.T) {
	reg := testutil.StartDistribution(t)
	pkg := affinePkg(t)
	desc := pkg.PushRemote(t, reg, "test/affine", "v1")
	model := digest.FromBytes(pkg.Model).String()
	// How the proxy alters the blob (0 untouched, 1 a flipped byte, 2 a byte short).
	var mode atomic.Int32
	target, _ := url.Parse("http://" + reg)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || !strings.HasSuffix(resp.Request.URL.Path, "/blobs/"+model) || resp.StatusCode != http.StatusOK {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		switch mode.Load() {
		case 1:
			b[len(b)-1] ^= 0xff
		case 2:
			b = b[:len(b)-1]
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref := host + "/test/affine@" + desc.Digest.String()
	ctx := context.Background()

	mode.Store(1) // same size, other bytes
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	_, err := m.Register(ctx, ref, "")
	statusOf(t, err, http.StatusUnprocessableEntity)
	if !errors.Is(err, content.ErrMismatchedDigest) {
		t.Fatalf("tampered blob: %v, want it to wrap content.ErrMismatchedDigest", err)
	}

	mode.Store(2) // a byte short
	m = newManager(t, t.TempDir(), mlos.BatchOptions{})
	_, err = m.Register(ctx, ref, "")
	statusOf(t, err, http.StatusBadGateway)
	if _, ok := m.Get("test/affine"); ok {
		t.Fatal("a package from a registry that lied about a blob was registered")
	}

	// The honest answer still registers.
	mode.Store(0)
	if _, err := m.Register(ctx, ref, ""); err != nil {
		t.Fatalf("untouched: %v", err)
	}
}
