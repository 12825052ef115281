package mlos_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"oras.land/oras-go/v2/content/oci"
)

// A directory packed whole (a .tar layer) comes back as the same files when
// mlosd unpacks the package, through the package format's own extractor.
func TestUnpackWholeDirectoryLayer(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "model.onnx"), mlostest.AffineModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	assets := map[string]string{"assets/vocab.txt": "a\nb\n", "assets/deep/labels.txt": "cat\ndog\n"}
	for p, body := range assets {
		os.MkdirAll(filepath.Join(src, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(src, p), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layout := t.TempDir()
	st, err := oci.New(layout)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	desc, err := artifact.Pack(ctx, src, st, artifact.WithName("test", "whole"), artifact.WithVersion("1"), artifact.WithWholeDirs("assets"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tag(ctx, desc, "1"); err != nil {
		t.Fatal(err)
	}
	p, err := mlos.NewPuller(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := mlos.ParseRef("oci-layout://" + layout + "@" + desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Pull(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := p.Unpack(ctx, got.Digest)
	if err != nil {
		t.Fatal(err)
	}
	for rel, body := range assets {
		b, err := os.ReadFile(filepath.Join(pkg.Dir, filepath.FromSlash(rel)))
		if err != nil || string(b) != body {
			t.Errorf("%s = %q, %v; want %q", rel, b, err, body)
		}
	}
}
