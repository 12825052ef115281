package ui

import (
	"context"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

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
	mp := e.modelPack(dir)
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

// The model pages of foreign artifacts show their files and their own config.
func TestForeignModelPages(t *testing.T) {
	e := newEnv(t)
	dir := artifacttest.ModelDir(t, 5)
	kit, extra := artifacttest.ModelKit("kit-tiny")
	extra(t, dir)
	kd := artifacttest.Push(t, e.ctx, untagged{e.src.Store}, "x", dir, kit)
	e.tag(kd, "kits/tiny", "1")
	e.start(Options{})
	c := newClient(t, e.server(nil).URL)
	resp, page := c.get("/ui/models/kits/tiny")
	if resp.StatusCode != 200 {
		t.Fatalf("model page: %d", resp.StatusCode)
	}
	for _, want := range []string{"model.onnx", "tokenizer.json", "README.md", "config (application/vnd.kitops.modelkit.config.v1", "manifestVersion"} {
		if !strings.Contains(page, want) {
			t.Errorf("the ModelKit page does not show %q", want)
		}
	}
	var repo RepositoryView
	c.json("/api/repositories/kits/tiny", 200, &repo)
	if repo.Manifest.Kind != KindModel || repo.Model == nil || len(repo.Files) != len(kit.Layers) {
		t.Fatalf("API view of a ModelKit: kind %s, %d files", repo.Manifest.Kind, len(repo.Files))
	}
}
