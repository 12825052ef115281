package pytorch_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/adapters/pytorch"
)

func TestFetchHubconfAndWeights(t *testing.T) {
	g := hubtest.NewGitHub(t)
	sha, wurl := g.PushTinyNet("acme", "tinyvision", "")
	a := &pytorch.Adapter{API: g.API, Token: "ghp_replica", Engine: download.New(t.TempDir())}
	m, err := hubtest.Fetch(t, a, "pytorch/acme/tinyvision/tinynet@latest")
	if err != nil {
		t.Fatal(err)
	}
	if m.Revision != sha || m.Kind != "hubconf" || m.Entrypoint != "tinynet" || m.License != "BSD-3-Clause" || m.Created == "" {
		t.Fatalf("model = %+v", m)
	}
	ck := filepath.Join(m.Extra["TORCH_HOME"], "hub", "checkpoints", filepath.Base(wurl))
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("weights not in TORCH_HOME: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "hubconf.py")); err != nil {
		t.Fatal(err)
	}
	if n := g.AuthOffAPI.Load(); n != 0 {
		t.Errorf("GITHUB_TOKEN went to codeload or the weights host %d times", n)
	}
	gets := g.Faults.FileGets.Load()
	m2, err := hubtest.Fetch(t, a, "pytorch/acme/tinyvision/tinynet@"+sha[:10])
	if err != nil {
		t.Fatal(err)
	}
	if m2.Revision != sha || m2.Downloaded != 0 || g.Faults.FileGets.Load() != gets {
		t.Fatalf("second fetch downloaded %d files", m2.Downloaded)
	}
}

func TestWeightsHashPrefixMismatch(t *testing.T) {
	g := hubtest.NewGitHub(t)
	g.PushTinyNet("acme", "tinyvision", "deadbeef")
	a := &pytorch.Adapter{API: g.API, Engine: download.New(t.TempDir())}
	_, err := hubtest.Fetch(t, a, "pytorch/acme/tinyvision/tinynet")
	if !errors.Is(err, adapters.ErrChecksum) {
		t.Fatalf("err = %v, want checksum mismatch", err)
	}
}

func TestMissing(t *testing.T) {
	g := hubtest.NewGitHub(t)
	g.PushTinyNet("acme", "tinyvision", "")
	a := &pytorch.Adapter{API: g.API, Engine: download.New(t.TempDir())}
	for _, ref := range []string{"pytorch/acme/nothing/tinynet", "pytorch/acme/tinyvision/tinynet@v9", "pytorch/acme/tinyvision/resnet50"} {
		if _, err := hubtest.Fetch(t, a, ref); !errors.Is(err, adapters.ErrNotFound) {
			t.Errorf("%s: err = %v, want not found", ref, err)
		}
	}
}

func TestHashPrefix(t *testing.T) {
	for name, want := range map[string]string{
		"resnet50-0676ba61.pth": "0676ba61", "resnet50-11ad3fa6.pth": "11ad3fa6",
		"model.pth": "", "vit_b_16-c867db91.pth": "c867db91", "efficientnet_b0_rwightman-7f5810bc.pth": "7f5810bc",
	} {
		if got := pytorch.HashPrefix(name); got != want {
			t.Errorf("HashPrefix(%s) = %q, want %q", name, got, want)
		}
	}
}

// torchvision-style: entrypoints imported from a package, weight URLs in the
// package's modules; only the asked model's weights are fetched.
func TestWeightsFromPackageModules(t *testing.T) {
	g := hubtest.NewGitHub(t)
	mine := g.AddWeights("resnet18", []byte("resnet18 weights"), "")
	other := g.AddWeights("resnet34", []byte("resnet34 weights"), "")
	g.Push(hubtest.GitHubRepo{Owner: "pytorch", Name: "vision", Files: []hubtest.File{
		hubtest.Bytes("hubconf.py", []byte("dependencies = ['torch']\nfrom visionpkg.models.resnet import (\n    resnet18,\n    resnet34,\n)\n")),
		hubtest.Bytes("visionpkg/models/resnet.py", []byte("URLS = {\n 'a': '"+mine+"',\n 'b': \""+other+"\",\n}\ndef resnet18(): pass\ndef resnet34(): pass\n")),
	}})
	a := &pytorch.Adapter{API: g.API, Engine: download.New(t.TempDir())}
	m, err := hubtest.Fetch(t, a, "pytorch/pytorch/vision/resnet18")
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(m.Extra["TORCH_HOME"], "hub", "checkpoints")
	if _, err := os.Stat(filepath.Join(ck, filepath.Base(mine))); err != nil {
		t.Errorf("resnet18 weights missing: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ck, filepath.Base(other))); err == nil {
		t.Error("resnet34 weights fetched for resnet18")
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "visionpkg", "models", "resnet.py")); err != nil {
		t.Error(err)
	}
}
