package artifacttest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// Layer is one layer of a hand-built model artifact: Paths (files or
// directories under the source directory) as one raw file or one archive
// whose entries are paths from the model root, as modctl and kit write them.
type Layer struct {
	MediaType   string
	Paths       []string
	Archive     string // "", "tar", "tar+gzip", "tar+zstd"
	Annotations map[string]string
}

// Artifact is a model artifact as another tool lays it out.
type Artifact struct {
	ArtifactType     string
	ConfigMediaType  string
	Config           any // marshalled as JSON; a func(diffIDs) any fills modelfs/rootfs
	Layers           []Layer
	Annotations      map[string]string
	NoFilepath       bool // leave org.cncf.model.filepath off (Docker v0.1, old kit)
	NoTitle          bool
	ConfigForDiffIDs func(diffIDs []digest.Digest) any
}

// Push builds the artifact from the files under src, pushes it to dst, tags
// it and returns its manifest descriptor.
func Push(t testing.TB, ctx context.Context, dst oras.Target, tag, src string, a Artifact) ocispec.Descriptor {
	t.Helper()
	var layers []ocispec.Descriptor
	var diffIDs []digest.Digest
	for _, l := range a.Layers {
		blob, diff := layerBlob(t, src, l)
		d := ocispec.Descriptor{MediaType: l.MediaType, Digest: digest.FromBytes(blob), Size: int64(len(blob)), Annotations: map[string]string{}}
		if !a.NoFilepath {
			d.Annotations["org.cncf.model.filepath"] = l.Paths[0]
		}
		if !a.NoTitle {
			d.Annotations[ocispec.AnnotationTitle] = path.Base(l.Paths[0])
		}
		if l.Archive != "" {
			meta, _ := json.Marshal(map[string]any{"name": path.Base(l.Paths[0]), "mode": 0o644, "uid": 0, "gid": 0, "size": len(blob), "mtime": time.Unix(0, 0).UTC(), "typeflag": 48})
			d.Annotations["org.cncf.model.file.metadata+json"] = string(meta)
		}
		for k, v := range l.Annotations {
			d.Annotations[k] = v
		}
		if len(d.Annotations) == 0 {
			d.Annotations = nil
		}
		pushBlob(t, ctx, dst, d, blob)
		layers = append(layers, d)
		diffIDs = append(diffIDs, diff)
	}
	cfgV := a.Config
	if a.ConfigForDiffIDs != nil {
		cfgV = a.ConfigForDiffIDs(diffIDs)
	}
	cfg, err := json.Marshal(cfgV)
	if err != nil {
		t.Fatal(err)
	}
	cfgDesc := ocispec.Descriptor{MediaType: a.ConfigMediaType, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	pushBlob(t, ctx, dst, cfgDesc, cfg)
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: a.ArtifactType,
		Config:       cfgDesc,
		Layers:       layers,
		Annotations:  a.Annotations,
	}
	raw, err := json.Marshal(man)
	if err != nil {
		t.Fatal(err)
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: a.ArtifactType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	pushBlob(t, ctx, dst, desc, raw)
	if err := dst.Tag(ctx, desc, tag); err != nil {
		t.Fatal(err)
	}
	return desc
}

func pushBlob(t testing.TB, ctx context.Context, dst oras.Target, d ocispec.Descriptor, b []byte) {
	t.Helper()
	if ok, _ := dst.Exists(ctx, d); ok {
		return
	}
	if err := dst.Push(ctx, d, bytes.NewReader(b)); err != nil {
		t.Fatalf("push %s: %v", d.MediaType, err)
	}
}

// layerBlob returns the layer's bytes and its DiffID (digest uncompressed).
func layerBlob(t testing.TB, src string, l Layer) ([]byte, digest.Digest) {
	t.Helper()
	if l.Archive == "" {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(l.Paths[0])))
		if err != nil {
			t.Fatal(err)
		}
		return b, digest.FromBytes(b)
	}
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, p := range l.Paths {
		addTar(t, tw, src, p)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	diff := digest.FromBytes(tb.Bytes())
	switch l.Archive {
	case "tar":
		return tb.Bytes(), diff
	case "tar+gzip":
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		zw.Write(tb.Bytes())
		zw.Close()
		return zb.Bytes(), diff
	case "tar+zstd":
		zw, _ := zstd.NewWriter(nil)
		return zw.EncodeAll(tb.Bytes(), nil), diff
	}
	t.Fatalf("archive %q", l.Archive)
	return nil, ""
}

// addTar adds src/p (a file, or a directory with everything under it, its
// directories as entries of their own) under the name p.
func addTar(t testing.TB, tw *tar.Writer, src, p string) {
	t.Helper()
	abs := filepath.Join(src, filepath.FromSlash(p))
	fi, err := os.Stat(abs)
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir() {
		tw.WriteHeader(&tar.Header{Name: p + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0)})
		des, _ := os.ReadDir(abs)
		sort.Slice(des, func(i, j int) bool { return des[i].Name() < des[j].Name() })
		for _, de := range des {
			addTar(t, tw, src, p+"/"+de.Name())
		}
		return
	}
	b, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	tw.WriteHeader(&tar.Header{Name: p, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b)), ModTime: time.Unix(0, 0)})
	tw.Write(b)
}

// ModelPack lays out the files of ModelDir (plus extra/notes/a.txt) as a
// ModelPack artifact the way modctl does: the ONNX model and its data raw,
// config files as tar, docs as tar+zstd, a directory as tar+gzip; with
// legacy, the CNAI names the spec had before the CNCF.
func ModelPack(name string, legacy bool) (Artifact, func(t testing.TB, dir string)) {
	ns := "application/vnd.cncf.model."
	at, cfgMT := "application/vnd.cncf.model.manifest.v1+json", "application/vnd.cncf.model.config.v1+json"
	if legacy {
		ns = "application/vnd.cnai.model."
		at, cfgMT = "application/vnd.cnai.model.manifest.v1+json", "application/vnd.cnai.model.config.v1+json"
	}
	a := Artifact{
		ArtifactType:    at,
		ConfigMediaType: cfgMT,
		Layers: []Layer{
			{MediaType: ns + "weight.v1.raw", Paths: []string{"model.onnx"}},
			{MediaType: ns + "weight.v1.raw", Paths: []string{"model.onnx.data"}},
			{MediaType: ns + "weight.config.v1.tar", Paths: []string{"config.json"}, Archive: "tar"},
			{MediaType: ns + "weight.config.v1.tar", Paths: []string{"tokenizer.json"}, Archive: "tar"},
			{MediaType: ns + "doc.v1.tar+zstd", Paths: []string{"README.md"}, Archive: "tar+zstd"},
			{MediaType: ns + "code.v1.tar+gzip", Paths: []string{"extra"}, Archive: "tar+gzip"},
		},
		Annotations: map[string]string{ocispec.AnnotationCreated: "2025-01-01T00:00:00Z"},
		ConfigForDiffIDs: func(d []digest.Digest) any {
			return map[string]any{
				"descriptor": map[string]any{"createdAt": "2025-01-01T00:00:00Z", "name": name, "version": "1.0", "licenses": []string{"Apache-2.0"}, "family": "tiny"},
				"config":     map[string]any{"architecture": "transformer", "format": "onnx", "paramSize": "1.2K", "precision": "fp32", "capabilities": map[string]any{"inputTypes": []string{"text"}, "outputTypes": []string{"text"}}},
				"modelfs":    map[string]any{"type": "layers", "diffIds": d},
			}
		},
	}
	return a, func(t testing.TB, dir string) { WriteFile(t, dir, "extra/notes/a.txt", "nested\n") }
}

// ModelKit lays the files of ModelDir out as KitOps does: the Kitfile as JSON
// config, model, model parts, docs and code as tar+gzip layers of paths from
// the kit's context, the code layer a directory tree.
func ModelKit(name string) (Artifact, func(t testing.TB, dir string)) {
	kitfile := map[string]any{
		"manifestVersion": "1.0.0",
		"package":         map[string]any{"name": name, "version": "1.0.0", "description": "tiny classifier", "license": "MIT", "authors": []string{"axon"}},
		"model": map[string]any{"name": name, "path": "model.onnx", "framework": "onnx", "version": "1.0.0",
			"parts": []map[string]any{{"path": "model.onnx.data"}, {"path": "tokenizer.json", "type": "tokenizer"}, {"path": "config.json"}}},
		"code": []map[string]any{{"path": "src", "description": "code"}},
		"docs": []map[string]any{{"path": "README.md"}},
	}
	p := "application/vnd.kitops.modelkit."
	a := Artifact{
		ArtifactType:    "application/vnd.kitops.modelkit.manifest.v1+json",
		ConfigMediaType: "application/vnd.kitops.modelkit.config.v1+json",
		Config:          kitfile,
		NoTitle:         true,
		NoFilepath:      true, // kit names layers by the Kitfile's order, not by annotation
		Layers: []Layer{
			{MediaType: p + "model.v1.tar+gzip", Paths: []string{"model.onnx"}, Archive: "tar+gzip"},
			{MediaType: p + "modelpart.v1.tar+gzip", Paths: []string{"model.onnx.data"}, Archive: "tar+gzip"},
			{MediaType: p + "modelpart.v1.tar+gzip", Paths: []string{"tokenizer.json"}, Archive: "tar+gzip"},
			{MediaType: p + "modelpart.v1.tar+gzip", Paths: []string{"config.json"}, Archive: "tar+gzip"},
			{MediaType: p + "code.v1.tar+gzip", Paths: []string{"src"}, Archive: "tar+gzip"},
			{MediaType: p + "docs.v1.tar+gzip", Paths: []string{"README.md"}, Archive: "tar+gzip"},
		},
		Annotations: map[string]string{"ml.kitops.modelkit.cli-version": "1.10.0"},
	}
	return a, func(t testing.TB, dir string) {
		WriteFile(t, dir, "src/train.py", "print('hi')\n")
		WriteFile(t, dir, "src/lib/util.py", "X = 1\n")
	}
}

// DockerModel lays out a GGUF model the way Docker Model Runner publishes
// one: v0.1 config, unannotated gguf, license and chat-template layers
// (v02: the v0.2 config with org.cncf.model.filepath on each file).
func DockerModel(v02 bool) (Artifact, func(t testing.TB, dir string)) {
	cfgMT := "application/vnd.docker.ai.model.config.v0.1+json"
	if v02 {
		cfgMT = "application/vnd.docker.ai.model.config.v0.2+json"
	}
	a := Artifact{
		ConfigMediaType: cfgMT,
		NoFilepath:      !v02,
		NoTitle:         !v02,
		Layers: []Layer{
			{MediaType: "application/vnd.docker.ai.gguf.v3", Paths: []string{"model.gguf"}},
			{MediaType: "application/vnd.docker.ai.license", Paths: []string{"LICENSE"}},
			{MediaType: "application/vnd.docker.ai.chat.template.jinja", Paths: []string{"template.jinja"}},
		},
		ConfigForDiffIDs: func(d []digest.Digest) any {
			return map[string]any{
				"config":     map[string]any{"format": "gguf", "quantization": "Q4_K_M", "parameters": "1.2M", "architecture": "llama", "size": "1.5 KiB"},
				"descriptor": map[string]any{"created": "2025-01-01T00:00:00Z"},
				"rootfs":     map[string]any{"type": "rootfs", "diff_ids": d},
			}
		},
	}
	return a, func(t testing.TB, dir string) {
		WriteFile(t, dir, "model.gguf", "GGUF\x03\x00\x00\x00 not a real model")
		WriteFile(t, dir, "LICENSE", "Apache-2.0\n")
		WriteFile(t, dir, "template.jinja", "{% for m in messages %}{{ m.content }}{% endfor %}")
	}
}

// Case is one hand-built foreign artifact with the directory it holds.
type Case struct {
	Name, Format string // Format as artifact.Format* names it
	Artifact     Artifact
	Src          string
	ONNX         bool
}

// Cases builds the model directories of every foreign layout axon reads:
// ModelPack (CNCF and CNAI names), ModelKit, Docker Model Runner v0.1 and v0.2.
func Cases(t testing.TB) []Case {
	t.Helper()
	var out []Case
	add := func(name, format string, a Artifact, extra func(testing.TB, string), onnx bool) {
		dir := t.TempDir()
		if onnx {
			dir = ModelDir(t, 3)
		}
		extra(t, dir)
		out = append(out, Case{Name: name, Format: format, Artifact: a, Src: dir, ONNX: onnx})
	}
	a, x := ModelPack("acme/tiny", false)
	add("modelpack", "modelpack", a, x, true)
	a, x = ModelPack("acme/tiny", true)
	add("modelpack-cnai", "modelpack", a, x, true)
	a, x = ModelKit("tiny-kit")
	add("modelkit", "modelkit", a, x, true)
	a, x = DockerModel(false)
	add("docker-v0.1", "docker-model", a, x, false)
	a, x = DockerModel(true)
	add("docker-v0.2", "docker-model", a, x, false)
	return out
}
