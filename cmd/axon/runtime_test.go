package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/mlos/server"
)

// TestRegisterPsUnregister drives a real mlosd (in-process server over real
// ONNX Runtime) with axon: a local package registers from the store's OCI
// layout, and by registry digest once pushed.
func TestRegisterPsUnregister(t *testing.T) {
	m, err := mlos.NewManager(context.Background(), mlos.Options{DataDir: t.TempDir(), ORTLib: testutil.ORTLibrary(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	ts := httptest.NewServer(server.New(m, server.Options{}).Handler())
	t.Cleanup(ts.Close)

	home := t.TempDir()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), mlostest.AffineModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, axonCLI(t, home, "", "pack", dir, "--name", "test/affine", "--version", "1"))

	r := ok(t, axonCLI(t, home, "", "register", "test/affine@1", "--mlos-url", ts.URL))
	if !strings.Contains(r.out, "registered test/affine (sha256:") || !strings.Contains(r.out, "oci-layout://") {
		t.Fatalf("register from the store: %s", r.out)
	}
	model, found := m.Get("test/affine")
	if !found || !model.Ready() || !strings.HasPrefix(model.Pinned, "oci-layout://") {
		t.Fatalf("mlosd holds %+v", model)
	}
	if _, _, err := model.InferJSON(context.Background(), []any{1.0, 2.0, 3.0}, nil); err != nil {
		t.Fatal(err)
	}

	reg := testutil.StartDistribution(t)
	ok(t, axonCLI(t, home, "", "push", "test/affine@1", reg+"/test/affine:1"))
	r = ok(t, axonCLI(t, home, "", "register", "test/affine@1", "--name", "test/affine-remote", "--mlos-url", ts.URL))
	if !strings.Contains(r.out, "from "+reg+"/test/affine@sha256:") {
		t.Fatalf("register after push should use the registry digest: %s", r.out)
	}
	// An OCI reference passes straight through.
	r = ok(t, axonCLI(t, home, "", "register", reg+"/test/affine:1", "--name", "test/affine-tag", "--mlos-url", ts.URL))
	if !strings.Contains(r.out, "registered test/affine-tag") {
		t.Fatalf("register by tag: %s", r.out)
	}

	r = ok(t, axonCLI(t, home, "", "ps", "--mlos-url", ts.URL))
	for _, name := range []string{"test/affine ", "test/affine-remote", "test/affine-tag", "ready"} {
		if !strings.Contains(r.out, name) {
			t.Fatalf("ps lacks %q:\n%s", name, r.out)
		}
	}
	ok(t, axonCLI(t, home, "", "unregister", "test/affine", "--mlos-url", ts.URL))
	if _, found := m.Get("test/affine"); found {
		t.Fatal("unregister left the model")
	}
	if r := axonCLI(t, home, "", "unregister", "test/affine", "--mlos-url", ts.URL); r.code == 0 || !strings.Contains(r.err, "404") {
		t.Fatalf("unregistering twice: %d %s", r.code, r.err)
	}
	if r := axonCLI(t, home, "", "register", "no/such@1", "--mlos-url", ts.URL); r.code == 0 {
		t.Fatalf("registering an unknown package succeeded: %s", r.out)
	}
}
