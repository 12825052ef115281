package artifact

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content/memory"

	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
)

// A ModelPack's modelfs.diffIds must be its layers' content uncompressed:
// an uncompressed layer's is refused when the artifact is read, a
// compressed one's when it is verified or unpacked (leaving nothing behind).
func TestModelPackDiffIDs(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	src := artifacttest.ModelDir(t, 2)
	a, extra := artifacttest.ModelPack("acme/tiny", false)
	extra(t, src)
	good := artifacttest.Push(t, ctx, st, "good", src, a)
	pkg, err := Read(ctx, st, good)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyDiffIDs(ctx, st, pkg.Foreign); err != nil {
		t.Fatalf("the right diffIds: %v", err)
	}
	if err := Export(ctx, st, good, t.TempDir()); err != nil {
		t.Fatalf("export with the right diffIds: %v", err)
	}

	withDiffIDs := func(tag string, edit func([]digest.Digest) []digest.Digest) (*Package, error) {
		b := a
		b.ConfigForDiffIDs = func(d []digest.Digest) any { return a.ConfigForDiffIDs(edit(append([]digest.Digest(nil), d...))) }
		desc := artifacttest.Push(t, ctx, st, tag, src, b)
		pkg, err := Read(ctx, st, desc)
		if err == nil {
			pkg.Descriptor = desc
		}
		return pkg, err
	}
	wrong := digest.FromString("something else")
	// Layer 0 is model.onnx, raw: its diffId must be its digest.
	_, err = withDiffIDs("raw", func(d []digest.Digest) []digest.Digest { d[0] = wrong; return d })
	var de *DiffIDError
	if !errors.As(err, &de) || de.Path != "model.onnx" || !strings.Contains(err.Error(), "modelfs.diffIds says "+wrong.String()) {
		t.Fatalf("a raw layer with a wrong diffId: %v", err)
	}
	if _, err := withDiffIDs("short", func(d []digest.Digest) []digest.Digest { return d[1:] }); err == nil || !strings.Contains(err.Error(), "lists 5 layers, the manifest has 6") {
		t.Fatalf("a diffIds list one short: %v", err)
	}
	if _, err := withDiffIDs("bad", func(d []digest.Digest) []digest.Digest { d[2] = "sha256:nothex"; return d }); err == nil || !strings.Contains(err.Error(), "diffIds[2]") {
		t.Fatalf("a malformed diffId: %v", err)
	}
	// Layer 4 is README.md as tar+zstd: checked against its bytes.
	for _, i := range []int{4, 5} {
		bad, err := withDiffIDs("zipped", func(d []digest.Digest) []digest.Digest { d[i] = wrong; return d })
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		err = VerifyDiffIDs(ctx, st, bad.Foreign)
		if !errors.As(err, &de) || de.Want != wrong.String() {
			t.Fatalf("layer %d: verify: %v", i, err)
		}
		out := t.TempDir()
		err = Export(ctx, st, bad.Descriptor, out)
		if !errors.As(err, &de) {
			t.Fatalf("layer %d: export: %v", i, err)
		}
		if _, serr := os.Stat(out + "/" + bad.Foreign.Files[i].Path); serr == nil {
			t.Errorf("layer %d: export left %s behind", i, bad.Foreign.Files[i].Path)
		}
	}
	// No diffIds at all (older tools): nothing to check.
	if _, err := withDiffIDs("none", func([]digest.Digest) []digest.Digest { return nil }); err != nil {
		t.Fatalf("no diffIds: %v", err)
	}
}
