package main_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// By default mlosd reads OCI layouts only under $AXON_HOME (the local axon
// store); --allow-layout none allows none. Refusals are 403 and name no
// server path but the one the client sent.
func TestLayoutPolicyDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mlosd")
	}
	bin := build(t)
	home, elsewhere := t.TempDir(), t.TempDir()
	pkg := mlostest.Package{Namespace: "test", Name: "affine", Version: "1", Model: mlostest.AffineModel(t)}
	pkg.Layout(t, home, "v1")
	pkg.Layout(t, elsewhere, "v1")
	start := func(args ...string) string {
		addr := testutil.FreeAddr(t)
		data := filepath.Join(t.TempDir(), "data")
		testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t), "AXON_HOME=" + home}, bin, append([]string{"--addr", addr, "--data", data}, args...)...)
		testutil.WaitHTTP(t, "http://"+addr+"/healthz", 60*time.Second)
		return "http://" + addr
	}
	base := start()
	if code, body := postJSON(t, base+"/models", map[string]string{"ref": "oci-layout://" + home + ":v1"}); code != http.StatusCreated {
		t.Fatalf("layout in $AXON_HOME: %d %s", code, body)
	}
	for _, ref := range []string{"oci-layout://" + elsewhere + ":v1", "oci-layout:///nonexistent/dir:v1"} {
		code, body := postJSON(t, base+"/models", map[string]string{"ref": ref})
		if code != http.StatusForbidden || !strings.Contains(string(body), "--allow-layout") || strings.Contains(string(body), home) {
			t.Fatalf("%s: %d %s", ref, code, body)
		}
	}
	none := start("--allow-layout", "none")
	if code, body := postJSON(t, none+"/models", map[string]string{"ref": "oci-layout://" + home + ":v1"}); code != http.StatusForbidden {
		t.Fatalf("--allow-layout none: %d %s", code, body)
	}
}
