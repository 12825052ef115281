package ui

import (
	"context"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
)

// untagged pushes into the layout without the bare tag artifacttest gives.
type untagged struct{ oras.Target }

func (untagged) Tag(context.Context, ocispec.Descriptor, string) error { return nil }

// ModelPack and ModelKit artifacts are listed as models: name, format, files
// and sizes, and the I/O schema when manifest.yaml travels inside.
func TestForeignModelsListed(t *testing.T) {
	e := newEnv(t)
	dir := artifacttest.ModelDir(t, 4)
	mp, err := artifact.Pack(e.ctx, dir, e.src.Store, artifact.WithName("acme", "tiny"), artifact.WithVersion("1"), artifact.WithFormat(artifact.FormatModelPack))
	if err != nil {
		t.Fatal(err)
	}
	e.tag(mp, "acme/tiny", "1")
	kit, extra := artifacttest.ModelKit("kit-tiny")
	extra(t, dir)
	kd := artifacttest.Push(t, e.ctx, untagged{e.src.Store}, "x", dir, kit)
	e.tag(kd, "kits/tiny", "1")
	u := e.start(Options{})
	cards := map[string]*Card{}
	for _, c := range u.idx.list(Query{Sort: SortName}).Repositories {
		cards[c.Name] = c
	}
	for name, c := range cards {
		if c.Kind != KindModel || c.Format != "onnx" {
			t.Errorf("%s: kind %s format %q", name, c.Kind, c.Format)
		}
	}
	if len(cards) != 2 {
		t.Fatalf("cards %+v", cards)
	}
	r, _ := u.idx.repo("acme/tiny")
	mi := r.manifests[mp.Digest]
	if mi == nil || mi.Model == nil || len(mi.Model.IO.Inputs) == 0 {
		t.Fatalf("ModelPack's manifest.yaml (I/O schema) not read: %+v", mi)
	}
	r, _ = u.idx.repo("kits/tiny")
	mi = r.manifests[kd.Digest]
	if mi == nil || mi.Model == nil || len(files(mi)) != len(kit.Layers) || files(mi)[0].Size == 0 {
		t.Fatalf("ModelKit files not listed: %+v", mi)
	}
}
