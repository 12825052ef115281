package mlos_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/content/oci"

	"github.com/mlos-foundation/axon/internal/signing"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

func testKeys(t *testing.T) (*signing.Key, *signing.PublicKey) {
	t.Helper()
	priv, pub, err := signing.GenerateKeyPair([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k"), priv, 0o600)
	os.WriteFile(filepath.Join(dir, "p"), pub, 0o644)
	k, err := signing.ReadKey(filepath.Join(dir, "k"), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := signing.ReadPublicKey(filepath.Join(dir, "p"))
	if err != nil {
		t.Fatal(err)
	}
	return k, p
}

// With RequireSignature, a package is registered only when a trusted key
// signed it; the signer is recorded, shown in the model info and kept across
// a restart; an unsigned or otherwise-signed package gets a 403 that says so.
func TestRequireSignature(t *testing.T) {
	ctx := context.Background()
	key, pub := testKeys(t)
	otherKey, _ := testKeys(t)
	layout := t.TempDir()
	st, err := oci.New(layout)
	if err != nil {
		t.Fatal(err)
	}
	model := mlostest.AffineModel(t)
	signed := mlostest.Package{Namespace: "test", Name: "signed", Version: "1", Model: model}.Push(t, st, "signed")
	mlostest.Package{Namespace: "test", Name: "unsigned", Version: "1", Model: model}.Push(t, st, "unsigned")
	wrong := mlostest.Package{Namespace: "test", Name: "wrong", Version: "1", Model: model}.Push(t, st, "wrong")
	if _, err := signing.Sign(ctx, st, signed, "local/test/signed", key); err != nil {
		t.Fatal(err)
	}
	if _, err := signing.Sign(ctx, st, wrong, "local/test/wrong", otherKey); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	opts := mlos.Options{DataDir: data, ORTLib: testutil.ORTLibrary(t), RequireSignature: true, TrustKeys: []*signing.PublicKey{pub}}
	m, err := mlos.NewManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{"unsigned": "is not signed", "wrong": "none verifies"} {
		_, err := m.Register(ctx, "oci-layout://"+layout+":"+tag, "")
		if err == nil || mlos.StatusOf(err) != http.StatusForbidden || !strings.Contains(err.Error(), "signature required") || !strings.Contains(err.Error(), want) {
			t.Fatalf("register %s: %v (status %d), want 403 %q", tag, err, mlos.StatusOf(err), want)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(data, "cache", "blobs", "sha256")); len(ents) != 0 {
		t.Fatalf("refused packages were pulled: %d blobs in the cache", len(ents))
	}
	got, err := m.Register(ctx, "oci-layout://"+layout+":signed", "")
	if err != nil {
		t.Fatal(err)
	}
	if in := got.Info(); in.Signer == nil || in.Signer.Key != pub.Fingerprint || in.Digest != signed.Digest.String() {
		t.Fatalf("registered %+v, want signer %s", in, pub.Fingerprint)
	}
	m.Close()

	m2, err := mlos.NewManager(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if err := m2.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	back, ok := m2.Get("test/signed")
	if !ok || !back.Ready() || back.Info().Signer == nil || back.Info().Signer.Key != pub.Fingerprint {
		t.Fatalf("after a restart: %+v", back)
	}
}
