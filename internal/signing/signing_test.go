package signing_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"

	"github.com/mlos-foundation/axon/internal/signing"
)

// keyPair writes a cosign-format key pair (password pw) and loads both halves.
func keyPair(t *testing.T, pw string) (*signing.Key, *signing.PublicKey, string, string) {
	t.Helper()
	priv, pub, err := signing.GenerateKeyPair([]byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kp, pp := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
	if err := os.WriteFile(kp, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pp, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := signing.ReadKey(kp, []byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	p, err := signing.ReadPublicKey(pp)
	if err != nil {
		t.Fatal(err)
	}
	return k, p, kp, pp
}

// subject stores a small manifest to sign in an OCI layout (a new one when st is nil).
func subject(t *testing.T, st *oci.Store, weights string) (*oci.Store, ocispec.Descriptor) {
	t.Helper()
	if st == nil {
		var err error
		if st, err = oci.New(t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	blob := []byte(weights)
	l := content.NewDescriptorFromBytes("application/vnd.cncf.model.weight.v1.raw", blob)
	if err := st.Push(ctx, l, bytes.NewReader(blob)); err != nil {
		t.Fatal(err)
	}
	d, err := oras.PackManifest(ctx, st, oras.PackManifestVersion1_1, "application/vnd.axon.model.v1", oras.PackManifestOptions{Layers: []ocispec.Descriptor{l}})
	if err != nil {
		t.Fatal(err)
	}
	return st, d
}

func TestSignVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	key, pub, _, _ := keyPair(t, "secret")
	_, other, _, _ := keyPair(t, "")
	st, subj := subject(t, nil, "weights")

	if _, err := signing.Verify(ctx, st, subj, []*signing.PublicKey{pub}); !isNotSigned(err, 0) {
		t.Fatalf("unsigned: %v, want NotSignedError with nothing found", err)
	}
	sig, err := signing.Sign(ctx, st, subj, "localhost:5000/test/affine", key)
	if err != nil {
		t.Fatal(err)
	}
	// A referrer of the subject, and cosign's tag.
	if d, err := st.Resolve(ctx, signing.SignatureTag(subj.Digest)); err != nil || d.Digest != sig.Digest {
		t.Fatalf("tag %s: %v %v", signing.SignatureTag(subj.Digest), d.Digest, err)
	}
	preds, err := st.Predecessors(ctx, subj)
	if err != nil || len(preds) != 1 || preds[0].Digest != sig.Digest {
		t.Fatalf("referrers of the subject: %v %v", preds, err)
	}
	got, err := signing.Verify(ctx, st, subj, []*signing.PublicKey{other, pub})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Key != pub.Fingerprint || got[0].DockerReference != "localhost:5000/test/affine" || !strings.HasPrefix(pub.Fingerprint, "sha256:") {
		t.Fatalf("verified %+v (key %s)", got, pub.Fingerprint)
	}
	if _, err := signing.Verify(ctx, st, subj, []*signing.PublicKey{other}); !isNotSigned(err, 1) {
		t.Fatalf("wrong key: %v, want NotSignedError with one found", err)
	}
	// Signing again with another key keeps the first signature under the tag.
	otherKey, otherPub, _, _ := keyPair(t, "x")
	if _, err := signing.Sign(ctx, st, subj, "localhost:5000/test/affine", otherKey); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*signing.PublicKey{pub, otherPub} {
		if _, err := signing.Verify(ctx, st, subj, []*signing.PublicKey{k}); err != nil {
			t.Fatalf("after a second signature: %v", err)
		}
	}
}

// A valid signature of another digest does not verify this one (the payload
// names the digest), and a tampered payload fails its digest check.
func TestSignatureBoundToDigest(t *testing.T) {
	ctx := context.Background()
	key, pub, _, _ := keyPair(t, "pw")
	st, subj := subject(t, nil, "weights")
	_, otherDesc := subject(t, st, "other weights")
	sig, err := signing.Sign(ctx, st, otherDesc, "r/x", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tag(ctx, sig, signing.SignatureTag(subj.Digest)); err != nil {
		t.Fatal(err)
	}
	_, err = signing.Verify(ctx, st, subj, []*signing.PublicKey{pub})
	if !isNotSigned(err, 1) || !strings.Contains(err.Error(), "is for "+otherDesc.Digest.String()) {
		t.Fatalf("grafted signature: %v", err)
	}
}

func isNotSigned(err error, found int) bool {
	var ns *signing.NotSignedError
	return errors.As(err, &ns) && ns.Found == found
}

func TestKeyFiles(t *testing.T) {
	_, pub, kp, pp := keyPair(t, "right")
	if _, err := signing.ReadKey(kp, []byte("wrong")); err == nil || !strings.Contains(err.Error(), "COSIGN_PASSWORD") {
		t.Fatalf("wrong password: %v", err)
	}
	t.Setenv(signing.EnvPassword, "right")
	k, err := signing.ReadKey(kp, nil)
	if err != nil {
		t.Fatalf("password from $COSIGN_PASSWORD: %v", err)
	}
	if kpub, _ := k.Public(); kpub.Fingerprint != pub.Fingerprint {
		t.Fatal("private and public key differ")
	}
	if _, err := signing.ReadKey(pp, nil); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Fatalf("public key as private: %v", err)
	}
	raw, _ := os.ReadFile(kp)
	if !bytes.HasPrefix(raw, []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")) {
		t.Fatalf("key file is not in cosign's format:\n%s", raw)
	}
}
