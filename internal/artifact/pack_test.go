package artifact

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"

	"github.com/mlos-foundation/axon/schemas"
)

func newStore(t *testing.T) *oci.Store {
	t.Helper()
	s, err := oci.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// packRead packs dir into st and reads the package back.
func packRead(t *testing.T, st *oci.Store, dir string, opts ...Option) (ocispec.Descriptor, *Package) {
	t.Helper()
	ctx := context.Background()
	desc, err := Pack(ctx, dir, st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := Read(ctx, st, desc)
	if err != nil {
		t.Fatal(err)
	}
	return desc, pkg
}

func TestPackLayout(t *testing.T) {
	dir := modelDir(t)
	_, pkg := packRead(t, newStore(t), dir, WithName("hf", "tiny"), WithVersion("1.0"))
	m := pkg.OCI
	if m.ArtifactType != schemas.ArtifactType || m.Config.MediaType != schemas.MediaTypeManifest {
		t.Errorf("artifactType %q config %q", m.ArtifactType, m.Config.MediaType)
	}
	want := []struct{ path, mt, role string }{
		{"model.onnx", schemas.MediaTypeWeight, schemas.RoleModel},
		{"README.md", schemas.MediaTypeDoc, schemas.RoleDoc},
		{"config.json", schemas.MediaTypeWeightConfig, schemas.RoleConfig},
		{"model.onnx.data", schemas.MediaTypeWeight, schemas.RoleWeights},
		{"original/pytorch_model.bin", schemas.MediaTypeWeight, schemas.RoleOriginal},
		{"tokenizer.json", schemas.MediaTypeWeightConfig, schemas.RoleTokenizer},
	}
	if len(m.Layers) != len(want) || len(pkg.Manifest.Files) != len(want) {
		t.Fatalf("%d layers, %d files, want %d", len(m.Layers), len(pkg.Manifest.Files), len(want))
	}
	var total int64
	for i, w := range want {
		l, f := m.Layers[i], pkg.Manifest.Files[i]
		if l.Annotations[schemas.AnnotationTitle] != w.path || l.Annotations[schemas.AnnotationFilepath] != w.path || l.MediaType != w.mt {
			t.Errorf("layer %d = %s %v, want %s %s", i, l.MediaType, l.Annotations, w.path, w.mt)
		}
		if f.Path != w.path || f.Role != w.role || f.Digest != l.Digest.String() || f.Size != l.Size {
			t.Errorf("file %d = %+v, want %s role %s digest %s", i, f, w.path, w.role, l.Digest)
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(w.path)))
		if err != nil {
			t.Fatal(err)
		}
		if digest.FromBytes(b) != l.Digest {
			t.Errorf("%s: layer digest %s is not the file's", w.path, l.Digest)
		}
		total += l.Size
	}
	pm := pkg.Manifest
	if pm.Resources.Bytes != total || pm.Resources.Parameters == 0 {
		t.Errorf("resources %+v, files total %d", pm.Resources, total)
	}
	if len(pm.IO.Inputs) != 1 || pm.IO.Inputs[0].Name != "input_ids" || pm.IO.Inputs[0].DType != "int64" ||
		len(pm.IO.Inputs[0].Shape) != 2 || pm.IO.Inputs[0].Shape[0].Name != "batch" {
		t.Errorf("inputs %+v", pm.IO.Inputs)
	}
	if len(pm.IO.Outputs) != 1 || pm.IO.Outputs[0].Shape[1].Size != 3 {
		t.Errorf("outputs %+v", pm.IO.Outputs)
	}
	if pm.Format.Opset == 0 || pm.Format.IRVersion == 0 {
		t.Errorf("format %+v", pm.Format)
	}
	a := m.Annotations
	if a[schemas.AnnotationTitle] != "hf/tiny" || a[schemas.AnnotationVersion] != "1.0" || a[schemas.AnnotationCreated] != "1970-01-01T00:00:00Z" {
		t.Errorf("annotations %v", a)
	}
}

func TestPackReproducible(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t)
	os.MkdirAll(filepath.Join(dir, "saved"), 0o755)
	write(t, dir, "original/savedmodel/saved_model.pb", "graph")
	write(t, dir, "original/savedmodel/variables/variables.index", "idx")
	d1, err := Pack(ctx, dir, newStore(t), WithName("hf", "tiny"), WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	// Same content elsewhere, other mtimes: the digest must not move.
	other := t.TempDir()
	copyTree(t, dir, other)
	later := time.Now().Add(time.Hour)
	filepath.Walk(other, func(p string, _ os.FileInfo, _ error) error { os.Chtimes(p, later, later); return nil })
	d2, err := Pack(ctx, other, newStore(t), WithName("hf", "tiny"), WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	if d1.Digest != d2.Digest {
		t.Fatalf("packing the same directory twice gave %s and %s", d1.Digest, d2.Digest)
	}
	// A different file gives a different digest (the test can fail).
	write(t, other, "README.md", "# changed\n")
	d3, err := Pack(ctx, other, newStore(t), WithName("hf", "tiny"), WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	if d3.Digest == d1.Digest {
		t.Fatal("a changed file did not change the digest")
	}
	// Source.Created pins the created annotation.
	write(t, other, "manifest.yaml", "source: {hub: hf, id: x/tiny, revision: abc, created: \"2024-05-01T10:00:00Z\"}\n")
	_, pkg := packRead(t, newStore(t), other, WithName("hf", "tiny"))
	if got := pkg.OCI.Annotations[schemas.AnnotationCreated]; got != "2024-05-01T10:00:00Z" {
		t.Errorf("created = %q", got)
	}
	if got := pkg.OCI.Annotations[schemas.AnnotationRevision]; got != "abc" {
		t.Errorf("revision = %q", got)
	}
}

func TestWholeDirAndExport(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t)
	write(t, dir, "original/savedmodel/saved_model.pb", "graph")
	write(t, dir, "original/savedmodel/variables/variables.index", "idx")
	st := newStore(t)
	desc, pkg := packRead(t, st, dir, WithName("tf", "tiny"), WithVersion("1"))
	found := false
	for _, l := range pkg.OCI.Layers {
		if l.Annotations[schemas.AnnotationFilepath] == "original/savedmodel" {
			found = true
			if l.MediaType != schemas.MediaTypeWeightTar {
				t.Errorf("saved model layer media type %s", l.MediaType)
			}
		}
	}
	if !found {
		t.Fatal("the SavedModel directory is not one tar layer")
	}
	out := filepath.Join(t.TempDir(), "out")
	if err := Export(ctx, st, desc, out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, dir, out)
}

func TestPackBadInput(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		setup func(t *testing.T, dir string)
		opts  []Option
		want  string
	}{
		"symlink out": {func(t *testing.T, dir string) {
			os.Symlink("/etc/hostname", filepath.Join(dir, "leak.txt"))
		}, nil, "symlink leaves the package directory"},
		"bad dtype": {func(t *testing.T, dir string) {
			write(t, dir, "manifest.yaml", "io:\n  inputs: [{name: x, dtype: flot32, shape: [batch, 3]}]\n  outputs: []\n")
		}, nil, "io.inputs[0].dtype"},
		"unknown field": {func(t *testing.T, dir string) {
			write(t, dir, "manifest.yaml", "resources: {bytes: 1, gpus: 2}\n")
		}, nil, "resources.gpus: unknown field"},
		"dotdot": {func(t *testing.T, dir string) {
			write(t, dir, "manifest.yaml", "files: [{path: ../x, role: doc, digest: \"sha256:"+strings.Repeat("0", 64)+"\", size: 1}]\n")
		}, nil, "leaves the package directory"},
		"absolute": {func(t *testing.T, dir string) {
			write(t, dir, "manifest.yaml", "format: {name: onnx, model: /etc/passwd}\n")
		}, nil, "absolute"},
		"no model": {func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "model.onnx"))
		}, nil, "no model.onnx"},
		"no name":     {func(t *testing.T, dir string) {}, []Option{WithVersion("1")}, "needs a name"},
		"bad name":    {func(t *testing.T, dir string) {}, []Option{WithName("HF", "Bert")}, "lower-case"},
		"bad version": {func(t *testing.T, dir string) {}, []Option{WithName("hf", "b"), WithVersion("a b")}, "version"},
		"not yaml": {func(t *testing.T, dir string) {
			write(t, dir, "manifest.yaml", "name: [unclosed\n")
		}, nil, "not valid YAML"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := modelDir(t)
			tc.setup(t, dir)
			opts := tc.opts
			if opts == nil {
				opts = []Option{WithName("hf", "tiny"), WithVersion("1")}
			}
			st := newStore(t)
			_, err := Pack(ctx, dir, st, opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			// Nothing tagged, no manifest stored.
			var tags []string
			st.Tags(ctx, "", func(t []string) error { tags = append(tags, t...); return nil })
			if len(tags) != 0 {
				t.Errorf("tags after a failed pack: %v", tags)
			}
		})
	}
}

func TestExportRejectsEscapingPaths(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	cfg := []byte("apiVersion: axon.mlos.dev/v1\n")
	cfgDesc := ocispec.Descriptor{MediaType: schemas.MediaTypeManifest, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	st.Push(ctx, cfgDesc, bytes.NewReader(cfg))
	data := []byte("pwned")
	l := ocispec.Descriptor{MediaType: schemas.MediaTypeWeight, Digest: digest.FromBytes(data), Size: int64(len(data)),
		Annotations: map[string]string{schemas.AnnotationTitle: "../../evil", schemas.AnnotationFilepath: "../../evil"}}
	st.Push(ctx, l, bytes.NewReader(data))
	man, _ := json.Marshal(ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: schemas.ArtifactType, Config: cfgDesc, Layers: []ocispec.Descriptor{l}})
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, man)
	st.Push(ctx, desc, bytes.NewReader(man))
	out := filepath.Join(t.TempDir(), "a", "b")
	err := Export(ctx, st, desc, out)
	if err == nil || !strings.Contains(err.Error(), "leaves the package directory") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "..", "..", "evil")); err == nil {
		t.Fatal("a file was written outside the export directory")
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// An exported package packs again to the same digest (its manifest.yaml is
// read back as the package's own).
func TestExportRepackSameDigest(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t)
	write(t, dir, "manifest.yaml", "task: text-classification\nlabels: [a, b, c]\nsource: {hub: hf, id: x/tiny, revision: abc, created: \"2024-05-01T10:00:00Z\"}\n")
	st := newStore(t)
	d1, err := Pack(ctx, dir, st, WithName("hf", "tiny"), WithVersion("2"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := Export(ctx, st, d1, out); err != nil {
		t.Fatal(err)
	}
	d2, err := Pack(ctx, out, newStore(t))
	if err != nil {
		t.Fatal(err)
	}
	if d1.Digest != d2.Digest {
		t.Fatalf("export → pack gave %s, first pack %s", d2.Digest, d1.Digest)
	}
	// A file that no longer matches the digest its manifest.yaml lists is refused.
	write(t, out, "README.md", "# tampered\n")
	if _, err := Pack(ctx, out, newStore(t)); err == nil || !strings.Contains(err.Error(), "README.md: manifest.yaml lists digest") {
		t.Fatalf("tampered file: %v", err)
	}
}

func TestSymlinks(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t)
	// A link to a file inside the package is packed as that file's content.
	os.Symlink("README.md", filepath.Join(dir, "README.link.md"))
	_, pkg := packRead(t, newStore(t), dir, WithName("hf", "tiny"))
	found := false
	for _, f := range pkg.Manifest.Files {
		found = found || f.Path == "README.link.md"
	}
	if !found {
		t.Error("in-package symlink not packed")
	}
	// A link back to a parent directory is a loop, not a hang.
	os.Symlink("..", filepath.Join(dir, "original", "up"))
	if _, err := Pack(ctx, dir, newStore(t), WithName("hf", "tiny")); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Fatalf("loop: %v", err)
	}
}

// Export into a directory that already exists: same-named files are replaced,
// other files stay; a directory where a file goes, or DIR being a file, is one
// clear error and nothing is written.
func TestExportIntoExisting(t *testing.T) {
	ctx := context.Background()
	dir := modelDir(t)
	st := newStore(t)
	desc, err := Pack(ctx, dir, st, WithName("hf", "tiny"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	write(t, out, "README.md", "old")
	write(t, out, "mine.txt", "keep")
	if err := Export(ctx, st, desc, out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "README.md")); string(b) != "# tiny\n" {
		t.Errorf("README.md not replaced: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "mine.txt")); string(b) != "keep" {
		t.Errorf("an unrelated file changed: %q", b)
	}

	blocked := t.TempDir()
	os.MkdirAll(filepath.Join(blocked, "model.onnx", "sub"), 0o755)
	err = Export(ctx, st, desc, blocked)
	if err == nil || !strings.Contains(err.Error(), "is a directory where the package has the file model.onnx") {
		t.Fatalf("directory in a file's place: %v", err)
	}
	if entries, _ := os.ReadDir(blocked); len(entries) != 1 {
		t.Errorf("a refused export wrote %d entries", len(entries))
	}

	file := filepath.Join(t.TempDir(), "f")
	write(t, filepath.Dir(file), "f", "x")
	if err := Export(ctx, st, desc, file); err == nil || !strings.Contains(err.Error(), "exists and is not a directory") {
		t.Fatalf("export into a file: %v", err)
	}
}
