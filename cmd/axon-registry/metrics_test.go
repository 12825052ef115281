package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// With auth on, /metrics on the main listener is for admins only, so a
// cluster's scraper gets --metrics-addr: /metrics and /healthz there answer
// without credentials, and nothing of the registry API is served on it.
func TestMetricsAddrServesScrapersWithoutAuth(t *testing.T) {
	pw := testutil.Htpasswd(t, "alice", "wonder-land-42")
	maddr := testutil.FreeAddr(t)
	reg := startRegistry(t, nil, "--root", t.TempDir(), "--htpasswd", pw, "--admin", "alice", "--metrics-addr", maddr)
	testutil.WaitHTTP(t, "http://"+maddr+"/healthz", 30*time.Second)

	get := func(url string) (int, string) {
		t.Helper()
		code, b := testutil.Get(t, url)
		return code, string(b)
	}
	if code, _ := get("http://" + reg.Host + "/metrics"); code != http.StatusUnauthorized {
		t.Fatalf("main listener /metrics without credentials: %d, want 401", code)
	}
	// a request on the main listener shows up in what the scraper reads
	get("http://" + reg.Host + "/v2/")
	code, body := get("http://" + maddr + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, "axon_registry_http_requests_total") {
		t.Fatalf("--metrics-addr /metrics: %d\n%.500s", code, body)
	}
	if code, body := get("http://" + maddr + "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("--metrics-addr /healthz: %d %q", code, body)
	}
	for _, p := range []string{"/v2/", "/token", "/admin/gc", "/"} {
		if code, _ := get("http://" + maddr + p); code != http.StatusNotFound {
			t.Errorf("--metrics-addr %s: %d, want 404 (only /metrics and /healthz live there)", p, code)
		}
	}
	resp, err := http.Post("http://"+maddr+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics on --metrics-addr: %d, want 405", resp.StatusCode)
	}
}
