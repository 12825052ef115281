package regclient

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/credentials"
)

// The plain-HTTP rule: loopback registries always, others only when asked.
func TestPlainHTTPRule(t *testing.T) {
	c, err := New(Options{Credentials: credentials.NewMemoryStore(), PlainHosts: func(h string) bool { return h == "registry:5000" }})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"localhost:5000": true, "127.0.0.1:5000": true, "[::1]:5000": true, "foo.localhost": true,
		"registry:5000": true, "registry:5001": false, "ghcr.io": false, "10.0.0.1:5000": false,
	} {
		if got := c.PlainHTTP(host); got != want {
			t.Errorf("PlainHTTP(%q) = %v, want %v", host, got, want)
		}
		repo, err := c.Repository(host + "/team/model")
		if err != nil {
			t.Fatalf("Repository(%s): %v", host, err)
		}
		if repo.PlainHTTP != want {
			t.Errorf("Repository(%s).PlainHTTP = %v, want %v", host, repo.PlainHTTP, want)
		}
	}
	forced, _ := New(Options{Credentials: credentials.NewMemoryStore(), PlainHTTP: true})
	if reg, err := forced.Registry("ghcr.io"); err != nil || !reg.PlainHTTP {
		t.Fatalf("PlainHTTP: true: %+v %v", reg, err)
	}
}

// A registry that wants a login gets the credentials Docker's config.json
// holds for it, and sees the program's user agent.
func TestDockerCredentialsAndUserAgent(t *testing.T) {
	var gotAuth, gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/" {
			http.NotFound(w, r)
			return
		}
		gotUA = r.UserAgent()
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		gotAuth = r.Header.Get("Authorization")
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	cfg := `{"auths":{"` + host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("alice:s3cret")) + `"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	c, err := New(Options{UserAgent: "axon/test"})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.Registry(host)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Ping(context.Background()); err != nil {
		t.Fatalf("ping %s: %v", host, err)
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:s3cret")); gotAuth != want {
		t.Fatalf("Authorization %q, want %q", gotAuth, want)
	}
	if gotUA != "axon/test" {
		t.Fatalf("User-Agent %q", gotUA)
	}
	// A Docker configuration that cannot be read is an error, not anonymity.
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "docker credentials") {
		t.Fatalf("broken config.json: %v", err)
	}
}

// --ca-file: a registry whose certificate a private CA signed is trusted
// with the CA's PEM, and not without it.
func TestCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	rt, err := caTransport(ca, false)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: rt}).Get(srv.URL)
	if err != nil {
		t.Fatalf("with --ca-file: %v", err)
	}
	resp.Body.Close()
	if _, err := (&http.Client{Transport: transport(false)}).Get(srv.URL); err == nil {
		t.Fatal("the private CA was trusted without --ca-file")
	}
	if _, err := New(Options{CAFile: filepath.Join(t.TempDir(), "none.pem"), Credentials: credentials.NewMemoryStore()}); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("a missing CA file: %v", err)
	}
}
