package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"

	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
	"github.com/mlos-foundation/axon/schemas"
)

func TestReadAndExportForeignFormats(t *testing.T) {
	ctx := context.Background()
	for _, c := range artifacttest.Cases(t) {
		name := c.Name
		t.Run(name, func(t *testing.T) {
			st := memory.New()
			desc := artifacttest.Push(t, ctx, st, "v1", c.Src, c.Artifact)
			pkg, err := Read(ctx, st, desc)
			if err != nil {
				t.Fatal(err)
			}
			if pkg.Format != c.Format || pkg.Foreign == nil {
				t.Fatalf("format %q, want %q", pkg.Format, c.Format)
			}
			if pkg.Manifest == nil || pkg.Manifest.Name == "" || len(pkg.Manifest.Files) != len(c.Artifact.Layers) {
				t.Fatalf("manifest %+v", pkg.Manifest)
			}
			if name == "modelkit" {
				var got []string
				for _, x := range pkg.Foreign.Files {
					got = append(got, x.Path)
				}
				if strings.Join(got, ",") != "model.onnx,model.onnx.data,tokenizer.json,config.json,src,README.md" {
					t.Errorf("ModelKit layers named %v from the Kitfile", got)
				}
			}
			if strings.HasPrefix(name, "docker") {
				if pkg.Foreign.ModelFormat != "gguf" || pkg.Foreign.Quantization != "Q4_K_M" || pkg.Foreign.HasONNX() {
					t.Errorf("docker model read as %+v", pkg.Foreign)
				}
				if !strings.Contains(pkg.Foreign.Summary(), "model.gguf") {
					t.Errorf("summary %q", pkg.Foreign.Summary())
				}
			} else if !pkg.Foreign.HasONNX() || pkg.Foreign.ModelFormat != "onnx" {
				t.Errorf("%s: no ONNX model seen: %+v", name, pkg.Foreign)
			}
			out := t.TempDir()
			if err := Export(ctx, st, desc, out); err != nil {
				t.Fatal(err)
			}
			artifacttest.SameTree(t, c.Src, out)
			// Nothing but the artifact's files: no manifest.yaml, no temp dirs.
			filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
				if err == nil && !fi.IsDir() {
					if strings.Contains(p, ".axon-export") || fi.Name() == schemas.ManifestFile {
						t.Errorf("stray %s", p)
					}
				}
				return nil
			})
			// Exporting again over the same files replaces them.
			if err := Export(ctx, st, desc, out); err != nil {
				t.Fatalf("export again: %v", err)
			}
			artifacttest.SameTree(t, c.Src, out)
		})
	}
}

func TestForeignRefusesEscapingPaths(t *testing.T) {
	ctx := context.Background()
	src := artifacttest.ModelDir(t, 1)
	a, _ := artifacttest.ModelPack("acme/x", false)
	a.Layers = a.Layers[:1]
	a.Layers[0].Annotations = map[string]string{schemas.AnnotationFilepath: "../../etc/passwd"}
	st := memory.New()
	desc := artifacttest.Push(t, ctx, st, "v1", src, a)
	if _, err := Read(ctx, st, desc); err == nil {
		t.Fatal("a layer path leaving the model directory was accepted")
	}
	a, _ = artifacttest.ModelPack("acme/x", false)
	a.Layers = []artifacttest.Layer{
		{MediaType: "application/vnd.cncf.model.weight.v1.raw", Paths: []string{"model.onnx"}},
		{MediaType: "application/vnd.cncf.model.weight.v1.raw", Paths: []string{"README.md"}, Annotations: map[string]string{schemas.AnnotationFilepath: "model.onnx"}},
	}
	desc = artifacttest.Push(t, ctx, st, "v2", src, a)
	if _, err := Read(ctx, st, desc); err == nil || !strings.Contains(err.Error(), "layers 0 and 1 both have the path \"model.onnx\"") {
		t.Fatalf("two layers with one path: %v", err)
	}
	// The rest of the package path rules (CheckLayerPaths) hold for raw
	// layers of foreign artifacts too; archive layers' names are labels.
	for name, c := range map[string]struct {
		paths []string
		want  string
	}{
		"file inside a file": {[]string{"model.onnx", "model.onnx/x"}, "inside layer 0's file"},
		"backslash":          {[]string{`sub\model.onnx`}, "backslash"},
		"absolute":           {[]string{"/model.onnx"}, "absolute"},
		"double slash":       {[]string{"a//model.onnx"}, "not a clean"},
	} {
		a, _ := artifacttest.ModelPack("acme/x", false)
		a.Layers = nil
		for _, p := range c.paths {
			a.Layers = append(a.Layers, artifacttest.Layer{MediaType: "application/vnd.cncf.model.weight.v1.raw", Paths: []string{"model.onnx"}, Annotations: map[string]string{schemas.AnnotationFilepath: p}})
		}
		desc = artifacttest.Push(t, ctx, st, "v3", src, a)
		if _, err := Read(ctx, st, desc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// "./x" is x, as other tools write it; an archive named "." is a label.
	a, _ = artifacttest.ModelPack("acme/x", false)
	a.Layers = []artifacttest.Layer{
		{MediaType: "application/vnd.cncf.model.weight.v1.raw", Paths: []string{"model.onnx"}, Annotations: map[string]string{schemas.AnnotationFilepath: "./model.onnx"}},
		{MediaType: "application/vnd.cncf.model.doc.v1.tar", Paths: []string{"README.md"}, Archive: "tar", Annotations: map[string]string{schemas.AnnotationFilepath: "."}},
	}
	desc = artifacttest.Push(t, ctx, st, "v4", src, a)
	pkg, err := Read(ctx, st, desc)
	if err != nil || pkg.Foreign.Files[0].Path != "model.onnx" || pkg.Foreign.Files[1].Path != "doc" {
		t.Fatalf("lenient names: %v %+v", err, pkg)
	}
}

func TestPackModelPack(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t)
	write(t, dir, "saved/variables/v.bin", "vars")
	write(t, dir, "saved/saved_model.pb", "pb")
	pack := func() (ocispec.Descriptor, *memory.Store) {
		st := memory.New()
		d, err := Pack(ctx, dir, st, WithName("acme", "tiny"), WithVersion("1.0"), WithFormat(FormatModelPack))
		if err != nil {
			t.Fatal(err)
		}
		return d, st
	}
	d1, st := pack()
	d2, _ := pack()
	if d1.Digest != d2.Digest {
		t.Fatalf("packing twice gave %s and %s", d1.Digest, d2.Digest)
	}
	axon, err := Pack(ctx, dir, memory.New(), WithName("acme", "tiny"), WithVersion("1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if axon.Digest == d1.Digest || axon.ArtifactType != schemas.ArtifactType {
		t.Fatal("the default format is not the axon package")
	}
	raw, err := content.FetchAll(ctx, st, d1)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	json.Unmarshal(raw, &m)
	if m.ArtifactType != ArtifactTypeModelPack || m.Config.MediaType != MediaTypeModelPackConfig {
		t.Fatalf("artifactType %s config %s", m.ArtifactType, m.Config.MediaType)
	}
	cfg, _ := content.FetchAll(ctx, st, m.Config)
	var mc ModelPackConfig
	if err := json.Unmarshal(cfg, &mc); err != nil {
		t.Fatal(err)
	}
	if mc.Descriptor.Name != "acme/tiny" || mc.Descriptor.Version != "1.0" || mc.Config.Format != "onnx" || mc.ModelFS.Type != "layers" || len(mc.ModelFS.DiffIDs) != len(m.Layers) || mc.Config.ParamSize == "" {
		t.Fatalf("config %s", cfg)
	}
	var sawManifest, sawTar bool
	for _, l := range m.Layers {
		fp := l.Annotations[schemas.AnnotationFilepath]
		if fp == "" || !strings.HasPrefix(l.MediaType, "application/vnd.cncf.model.") {
			t.Errorf("layer %s %v", l.MediaType, l.Annotations)
		}
		if fp == schemas.ManifestFile {
			sawManifest = l.MediaType == schemas.MediaTypeWeightConfig
		}
		if IsTarMediaType(l.MediaType) {
			sawTar = true
			// modctl's layout: tar entries are paths from the model root.
			rc, _ := st.Fetch(ctx, l)
			tmp := t.TempDir()
			if err := Untar(rc, tmp); err != nil {
				t.Fatal(err)
			}
			rc.Close()
			if _, err := os.Stat(filepath.Join(tmp, "saved", "saved_model.pb")); err != nil {
				t.Errorf("tar layer is not rooted at the model directory: %v", err)
			}
		}
	}
	if !sawManifest || !sawTar {
		t.Fatalf("manifest.yaml layer %v, tar layer %v", sawManifest, sawTar)
	}
	pkg, err := Read(ctx, st, d1)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.Format != FormatModelPack || pkg.EmbeddedManifest == nil || len(pkg.Manifest.IO.Inputs) == 0 || pkg.Manifest.Name != "tiny" {
		t.Fatalf("read back: format %s, manifest %+v", pkg.Format, pkg.Manifest)
	}
	out := t.TempDir()
	if err := Export(ctx, st, d1, out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, dir, out)
	b, _ := os.ReadFile(filepath.Join(out, schemas.ManifestFile))
	if !bytes.Equal(b, pkg.EmbeddedManifest) {
		t.Error("manifest.yaml not exported")
	}
	// What was exported packs again to the same ModelPack digest.
	d3, err := Pack(ctx, out, memory.New(), WithFormat(FormatModelPack))
	if err != nil {
		t.Fatal(err)
	}
	if d3.Digest != d1.Digest {
		t.Errorf("repack of the export: %s, want %s", d3.Digest, d1.Digest)
	}
}

func TestParamSize(t *testing.T) {
	for n, want := range map[int64]string{0: "", 950: "950", 1234: "1.2K", 110_000_000: "110M", 6_700_000_000: "6.7B", 1_000_000_000_000: "1T"} {
		if got := ParamSize(n); got != want {
			t.Errorf("ParamSize(%d) = %q, want %q", n, got, want)
		}
	}
}

// A gzip layer that unpacks to far more than its size is refused, and
// nothing of it is left behind.
func TestForeignCompressionBomb(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	write(t, src, "zeros.bin", strings.Repeat("\x00", 8<<20))
	a, _ := artifacttest.ModelPack("acme/bomb", false)
	a.Layers = []artifacttest.Layer{{MediaType: "application/vnd.cncf.model.weight.v1.tar+gzip", Paths: []string{"zeros.bin"}, Archive: "tar+gzip"}}
	st := memory.New()
	desc := artifacttest.Push(t, ctx, st, "v1", src, a)
	out := t.TempDir()
	err := Export(ctx, st, desc, out)
	if err == nil || !strings.Contains(err.Error(), "times its size") {
		t.Fatalf("export of a gzip bomb: %v", err)
	}
	if des, _ := os.ReadDir(out); len(des) != 0 {
		t.Errorf("left %d entries behind", len(des))
	}
}

func TestModalities(t *testing.T) {
	for task, want := range map[string]string{"text-classification": "text>text", "feature-extraction": "text>embedding", "image-classification": "image>text", "text-generation": "text>text", "": ">"} {
		in, out := modalities(task)
		if in+">"+out != want {
			t.Errorf("%s: %s>%s, want %s", task, in, out, want)
		}
	}
}
