package transfer

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/schemas"
)

// Other tools' model artifacts, laid out as their specs and tools do and
// pushed with oras-go, come through axon pull, inspect and export intact.
func foreignInterop(t *testing.T, reg string) {
	ctx := context.Background()
	creds := WithCredentials(credentials.NewMemoryStore())
	for _, c := range artifacttest.Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			repo, err := remote.NewRepository(reg + "/foreign/" + c.Name)
			if err != nil {
				t.Fatal(err)
			}
			repo.PlainHTTP = true
			desc := artifacttest.Push(t, ctx, repo, "v1", c.Src, c.Artifact)
			ref := reg + "/foreign/" + c.Name + ":v1"

			pkg, err := Inspect(ctx, ref, creds)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			if pkg.Format != c.Format || pkg.Descriptor.Digest != desc.Digest || len(pkg.Foreign.Files) != len(c.Artifact.Layers) {
				t.Fatalf("inspect: format %s digest %s", pkg.Format, pkg.Descriptor.Digest)
			}
			st := openStore(t)
			res, err := Pull(ctx, st, ref, creds)
			if err != nil {
				t.Fatalf("pull: %v", err)
			}
			if res.Descriptor.Digest != desc.Digest {
				t.Fatalf("pulled %s, pushed %s", res.Descriptor.Digest, desc.Digest)
			}
			local, err := st.Read(ctx, ref)
			if err != nil || local.Format != c.Format {
				t.Fatalf("read from the store: %v", err)
			}
			out := t.TempDir()
			if err := st.Export(ctx, ref, out); err != nil {
				t.Fatalf("export: %v", err)
			}
			sameTree(t, c.Src, out)
		})
	}
}

func TestForeignFormatsDistribution(t *testing.T) {
	foreignInterop(t, testutil.StartDistribution(t))
}

func TestForeignFormatsAxonRegistry(t *testing.T) {
	foreignInterop(t, axonRegistryUnlessShort(t))
}

// axon push --format modelpack: the real oras CLI sees a ModelPack artifact,
// its config and every layer's file path, and pulls the files by name.
func TestModelPackReadByOras(t *testing.T) {
	ctx := context.Background()
	orasBin := testutil.Tool(t, "oras")
	reg := testutil.StartDistribution(t)
	dir := modelDir(t, 1, 5)
	st := openStore(t)
	if _, err := st.Pack(ctx, dir, artifact.WithName("hf", "tiny"), artifact.WithVersion("1")); err != nil {
		t.Fatal(err)
	}
	res, err := PushFormat(ctx, st, "hf/tiny@1", reg, artifact.FormatModelPack, WithCredentials(credentials.NewMemoryStore()))
	if err != nil {
		t.Fatal(err)
	}
	again, err := PushFormat(ctx, st, "hf/tiny@1", reg, artifact.FormatModelPack, WithCredentials(credentials.NewMemoryStore()))
	if err != nil {
		t.Fatal(err)
	}
	if again.Descriptor.Digest != res.Descriptor.Digest {
		t.Fatalf("converting twice gave %s and %s", res.Descriptor.Digest, again.Descriptor.Digest)
	}
	ref := reg + "/hf/tiny:1"
	var m ocispec.Manifest
	if err := json.Unmarshal([]byte(runTool(t, t.TempDir(), orasBin, "manifest", "fetch", "--plain-http", ref)), &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != artifact.ArtifactTypeModelPack || m.Config.MediaType != artifact.MediaTypeModelPackConfig {
		t.Fatalf("oras sees artifactType %q config %q", m.ArtifactType, m.Config.MediaType)
	}
	paths := map[string]bool{}
	for _, l := range m.Layers {
		p := l.Annotations[schemas.AnnotationFilepath]
		if p == "" || !strings.HasPrefix(l.MediaType, "application/vnd.cncf.model.") {
			t.Errorf("layer %s without a ModelPack media type or filepath: %v", l.Digest, l.Annotations)
		}
		paths[p] = true
	}
	for _, want := range []string{"model.onnx", "model.onnx.data", "tokenizer.json", "config.json", "README.md", "original/weights.bin", schemas.ManifestFile} {
		if !paths[want] {
			t.Errorf("no layer for %s", want)
		}
	}
	var cfg artifact.ModelPackConfig
	if err := json.Unmarshal([]byte(runTool(t, t.TempDir(), orasBin, "manifest", "fetch-config", "--plain-http", ref)), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Descriptor.Name != "hf/tiny" || cfg.Config.Format != "onnx" || cfg.ModelFS.Type != "layers" || len(cfg.ModelFS.DiffIDs) != len(m.Layers) || cfg.Config.ParamSize == "" {
		t.Errorf("config as oras reads it: %+v", cfg)
	}
	// crane (go-containerregistry) sees the same.
	craneBin := testutil.Tool(t, "crane")
	var cm ocispec.Manifest
	if err := json.Unmarshal([]byte(runTool(t, t.TempDir(), craneBin, "manifest", "--insecure", ref)), &cm); err != nil {
		t.Fatal(err)
	}
	if cm.ArtifactType != artifact.ArtifactTypeModelPack || cm.Config.MediaType != artifact.MediaTypeModelPackConfig || len(cm.Layers) != len(m.Layers) {
		t.Errorf("crane sees artifactType %q config %q, %d layers", cm.ArtifactType, cm.Config.MediaType, len(cm.Layers))
	}
	for _, l := range cm.Layers {
		if l.Annotations[schemas.AnnotationFilepath] == "" {
			t.Errorf("crane: layer %s without org.cncf.model.filepath", l.Digest)
		}
	}
	var ccfg artifact.ModelPackConfig
	if err := json.Unmarshal([]byte(runTool(t, t.TempDir(), craneBin, "config", "--insecure", ref)), &ccfg); err != nil || ccfg.Descriptor.Name != "hf/tiny" {
		t.Errorf("crane config: %+v %v", ccfg, err)
	}
	out := t.TempDir()
	runTool(t, out, orasBin, "pull", "--plain-http", ref)
	sameTree(t, dir, out)

	// Back to the axon format: the digest of the package it came from.
	orig, err := st.Resolve(ctx, "hf/tiny@1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tag(ctx, res.Descriptor, "hf/tiny-mp@1"); err != nil {
		t.Fatal(err)
	}
	back, err := ToAxon(ctx, st, "hf/tiny-mp@1")
	if err != nil || back.Digest != orig.Digest {
		t.Fatalf("ModelPack back to axon: %s (%v), want %s", back.Digest, err, orig.Digest)
	}

	// And axon reads its own ModelPack back with the full manifest.yaml.
	st2 := openStore(t)
	if _, err := Pull(ctx, st2, ref, WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatal(err)
	}
	pkg, err := st2.Read(ctx, ref)
	if err != nil || pkg.Format != artifact.FormatModelPack || len(pkg.Manifest.IO.Inputs) == 0 {
		t.Fatalf("read back: %v %+v", err, pkg)
	}
}

// A package with a directory kept whole converts to ModelPack and back to
// the same axon digest, and each reads back with the directory intact.
func TestModelPackRoundTripWholeDir(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t, 0, 6)
	writeFile(t, dir, "saved/saved_model.pb", "pb")
	writeFile(t, dir, "saved/variables/v.index", "idx")
	st := openStore(t)
	p, err := st.Pack(ctx, dir, artifact.WithName("tf", "saved"), artifact.WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	mp, err := ToModelPack(ctx, st, "tf/saved@1")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tag(ctx, mp, "tf/saved-mp@1"); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := st.Export(ctx, "tf/saved-mp@1", out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, dir, out)
	back, err := ToAxon(ctx, st, "tf/saved-mp@1")
	if err != nil || back.Digest != p.Descriptor.Digest {
		t.Fatalf("back to axon: %s (%v), want %s", back.Digest, err, p.Descriptor.Digest)
	}
}
