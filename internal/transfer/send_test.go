package transfer

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// Big file layers go to the registry as the stored file (sendfile), not
// hashed on the way out: the registry's own digest check must then refuse a
// damaged copy, and the error must still name the local store as the culprit.
func TestPushOfDamagedBigBlob(t *testing.T) {
	t.Run("distribution", func(t *testing.T) { damagedBigBlob(t, testutil.StartDistribution(t)) })
	t.Run("axon-registry", func(t *testing.T) {
		damagedBigBlob(t, axonRegistryUnlessShort(t))
	})
}

// axonRegistryUnlessShort starts axon-registry, or skips the test in -short
// mode (it builds the program).
func axonRegistryUnlessShort(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds axon-registry")
	}
	return axonRegistry(t)
}

func damagedBigBlob(t *testing.T, reg string) {
	ctx := context.Background()
	st := openStore(t)
	packed, err := st.Pack(ctx, modelDir(t, 2, 11), artifact.WithName("hf", "bigdamage"))
	if err != nil {
		t.Fatal(err)
	}
	d := digestOfDesc(t, packed.Manifest, "original/weights.bin")
	blob := blobFile(st, d)
	good, err := os.ReadFile(blob)
	if err != nil || len(good) < sendThreshold {
		t.Fatalf("weights blob: %d bytes, %v (the test needs one of at least %d)", len(good), err, sendThreshold)
	}
	// An intact package pushes and pulls back whole through the send path.
	if _, err := Push(ctx, st, "hf/bigdamage@latest", reg+"/hf/intact:1", WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatalf("push: %v", err)
	}
	back := openStore(t)
	if _, err := Pull(ctx, back, reg+"/hf/intact:1", WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatalf("pull back: %v", err)
	}
	if got, err := os.ReadFile(blobFile(back, d)); err != nil || string(got) != string(good) {
		t.Fatalf("pulled weights differ from the pushed ones (%v)", err)
	}

	// Same size, one byte changed: only the registry's check can see it.
	bad := append([]byte(nil), good...)
	bad[len(bad)/2] ^= 0xff
	os.Chmod(blob, 0o644)
	if err := os.WriteFile(blob, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Push(ctx, st, "hf/bigdamage@latest", reg+"/hf/damaged:1", WithCredentials(credentials.NewMemoryStore()))
	if err == nil || !strings.Contains(err.Error(), "the local store's copy is damaged; axon rm the package") || strings.Contains(err.Error(), "PUT ") {
		t.Fatalf("push of a damaged big blob: %v", err)
	}
	if _, err := Pull(ctx, openStore(t), reg+"/hf/damaged:1", WithCredentials(credentials.NewMemoryStore())); err == nil {
		t.Fatal("the registry took a package with a damaged blob")
	}

	// Cut short: refused before any byte is sent, as the store's problem.
	if err := os.WriteFile(blob, good[:len(good)-1], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Push(ctx, st, "hf/bigdamage@latest", reg+"/hf/short:1", WithCredentials(credentials.NewMemoryStore()))
	var corrupt *store.CorruptError
	if !errors.As(err, &corrupt) || corrupt.Digest != d || !strings.Contains(err.Error(), "the local store's copy is damaged") {
		t.Fatalf("push of a truncated big blob: %v", err)
	}
}
