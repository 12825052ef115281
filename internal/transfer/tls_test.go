package transfer

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/credentials"
)

// --ca-file: a registry whose certificate a private CA signed is trusted
// with the CA's PEM, and not without it (the transports are regclient's:
// TestCAFile there); a CA file that cannot be used fails the transfer's options.
func TestCAFile(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := build([]Option{WithCAFile(ca), WithCredentials(credentials.NewMemoryStore())})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := o.reg.HTTP().Client.Get(srv.URL)
	if err != nil {
		t.Fatalf("with --ca-file: %v", err)
	}
	resp.Body.Close()
	o, err = build([]Option{WithCredentials(credentials.NewMemoryStore())})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.reg.HTTP().Client.Get(srv.URL); err == nil {
		t.Fatal("the private CA was trusted without --ca-file")
	}
	if _, err := build([]Option{WithCAFile(filepath.Join(t.TempDir(), "none.pem"))}); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("a missing CA file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a cert"), 0o644)
	if _, err := build([]Option{WithCAFile(bad)}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file without certificates: %v", err)
	}
}
