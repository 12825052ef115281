package install_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/converter"
	"github.com/mlos-foundation/axon/install"
	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/store"
)

// sideFiles are the configuration and tokenizer files of the tiny BERT repository.
func sideFiles() []hubtest.File {
	var out []hubtest.File
	for _, f := range hubtest.TinyBERT() {
		if !strings.Contains(f.Path, "/") && !strings.HasSuffix(f.Path, ".bin") {
			out = append(out, f)
		}
	}
	return out
}

// export builds a distinct tiny ONNX model (seed) as repository file p.
func export(t *testing.T, p string, seed uint64) hubtest.File {
	t.Helper()
	b, err := onnx.TinyTextClassifier(onnx.TextClassifierOptions{Vocab: 40, Seed: seed, BERTInputs: true}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return hubtest.Bytes(p, b)
}

// exportExternal builds model p with its weights in external data file p+"_data".
func exportExternal(t *testing.T, p string, seed uint64) []hubtest.File {
	t.Helper()
	dir := t.TempDir()
	name := filepath.Base(p)
	if err := onnx.TinyTextClassifier(onnx.TextClassifierOptions{Vocab: 40, Seed: seed, BERTInputs: true}).WriteFileExternal(filepath.Join(dir, name), name+"_data"); err != nil {
		t.Fatal(err)
	}
	var out []hubtest.File
	for _, n := range []string{name, name + "_data"} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, hubtest.Bytes(filepath.Dir(p)+"/"+n, b))
	}
	return out
}

func sha(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }

func fileDigest(t *testing.T, home, ref, path string) string {
	t.Helper()
	st, err := store.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, st, ref)
	for _, f := range m.Files {
		if f.Path == path {
			return f.Digest
		}
	}
	t.Fatalf("%s has no %s", ref, path)
	return ""
}

// TestInstallPicksONNXVariant: an onnx-community style repository (onnx/model.onnx
// with external data next to fp16 and q4 exports) installs without conversion,
// fp32 by default, the asked variant with --variant, and manifest.yaml says which.
func TestInstallPicksONNXVariant(t *testing.T) {
	h := hubtest.NewHF(t)
	files := sideFiles()
	files = append(files, exportExternal(t, "onnx/model.onnx", 1)...)
	fp16 := export(t, "onnx/model_fp16.onnx", 2)
	q4 := export(t, "onnx/model_q4.onnx", 3)
	files = append(files, fp16, q4, export(t, "onnx/model_quantized.onnx", 4))
	h.MustPush(t, hubtest.HFRepo{ID: "onnx-community/tiny-variants", PipelineTag: "text-classification", Files: files})
	ctx := context.Background()

	home := t.TempDir()
	res, err := install.Install(ctx, "hf/onnx-community/tiny-variants", install.Options{Home: home, HFEndpoint: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	if res.Backend != converter.BackendPassthrough {
		t.Fatalf("backend %q, want passthrough (no conversion)", res.Backend)
	}
	m := res.Manifest
	if m.Format.Variant != "fp32" || m.Format.SourceFile != "onnx/model.onnx" {
		t.Fatalf("format = %+v, want variant fp32 from onnx/model.onnx", m.Format)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	if !slices.Contains(paths, "model.onnx") || !slices.Contains(paths, "model.onnx_data") {
		t.Fatalf("package files %v lack model.onnx and its external data", paths)
	}
	for _, p := range paths {
		if strings.Contains(p, "fp16") || strings.Contains(p, "q4") || strings.Contains(p, "quantized") {
			t.Fatalf("package holds another export: %v", paths)
		}
	}
	if got := int(h.Faults.FileGets.Load()); got != len(res.Model.Files) {
		t.Errorf("replica served %d files for %d selected (%v): other exports were downloaded", got, len(res.Model.Files), res.Model.Files)
	}

	for _, c := range []struct {
		variant string
		file    hubtest.File
	}{{"q4", q4}, {"fp16", fp16}} {
		home := t.TempDir()
		res, err := install.Install(ctx, "hf/onnx-community/tiny-variants", install.Options{Home: home, HFEndpoint: h.URL, Variant: c.variant})
		if err != nil {
			t.Fatal(err)
		}
		if res.Manifest.Format.Variant != c.variant || res.Manifest.Format.SourceFile != c.file.Path || res.Backend != converter.BackendPassthrough {
			t.Fatalf("--variant %s: format %+v backend %s", c.variant, res.Manifest.Format, res.Backend)
		}
		if d := fileDigest(t, home, res.Descriptor.Digest.String(), "model.onnx"); d != sha(c.file.Data) {
			t.Fatalf("--variant %s: packaged model.onnx %s is not %s (%s)", c.variant, d, c.file.Path, sha(c.file.Data))
		}
	}

	// The same store: installing another variant of the same revision packs it
	// again instead of reusing the fp32 package.
	res2, err := install.Install(ctx, "hf/onnx-community/tiny-variants", install.Options{Home: home, HFEndpoint: h.URL, Variant: "q4"})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Reused || res2.Manifest.Format.Variant != "q4" {
		t.Fatalf("q4 after fp32 in one store: reused %v variant %q", res2.Reused, res2.Manifest.Format.Variant)
	}

	_, err = install.Install(ctx, "hf/onnx-community/tiny-variants", install.Options{Home: t.TempDir(), HFEndpoint: h.URL, Variant: "bnb4"})
	if !errors.Is(err, adapters.ErrVariant) || !strings.Contains(err.Error(), "q4 (onnx/model_q4.onnx)") {
		t.Fatalf("unknown variant: %v", err)
	}
}

// TestInstallQuantizedOnlyAsksForVariant: a repository with only quantized or
// fp16 exports (top level and onnx/) is not converted and not picked silently.
func TestInstallQuantizedOnlyAsksForVariant(t *testing.T) {
	h := hubtest.NewHF(t)
	files := append(sideFiles(), export(t, "model_q4.onnx", 5), export(t, "model_fp16.onnx", 6),
		export(t, "onnx/model_quantized.onnx", 7), export(t, "onnx/model_int8.onnx", 8))
	h.MustPush(t, hubtest.HFRepo{ID: "Xenova/tiny-quant", Files: files})
	ctx := context.Background()
	_, err := install.Install(ctx, "hf/Xenova/tiny-quant", install.Options{Home: t.TempDir(), HFEndpoint: h.URL})
	if !errors.Is(err, adapters.ErrVariant) {
		t.Fatalf("want ErrVariant, got %v", err)
	}
	for _, want := range []string{"--variant", "q4 (model_q4.onnx)", "fp16 (model_fp16.onnx)", "quantized (onnx/model_quantized.onnx)", "int8 (onnx/model_int8.onnx)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not list %q: %v", want, err)
		}
	}
	if n := h.Faults.FileGets.Load(); n != 0 {
		t.Errorf("%d files downloaded before asking for a variant", n)
	}
	res, err := install.Install(ctx, "hf/Xenova/tiny-quant", install.Options{Home: t.TempDir(), HFEndpoint: h.URL, Variant: "int8"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Format.Variant != "int8" || res.Manifest.Format.SourceFile != "onnx/model_int8.onnx" || res.Backend != converter.BackendPassthrough {
		t.Fatalf("format %+v backend %s", res.Manifest.Format, res.Backend)
	}
}

// TestInstallMergedDecoder: a repository that ships only a merged decoder export
// (optimum text-generation-with-past) installs it without conversion.
func TestInstallMergedDecoder(t *testing.T) {
	h := hubtest.NewHF(t)
	merged := export(t, "onnx/decoder_model_merged.onnx", 9)
	files := append(sideFiles(), merged, export(t, "onnx/decoder_model_merged_quantized.onnx", 10))
	h.MustPush(t, hubtest.HFRepo{ID: "onnx-community/tiny-decoder", Files: files})
	home := t.TempDir()
	res, err := install.Install(context.Background(), "hf/onnx-community/tiny-decoder", install.Options{Home: home, HFEndpoint: h.URL})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Format.Variant != "fp32" || res.Manifest.Format.SourceFile != "onnx/decoder_model_merged.onnx" || res.Backend != converter.BackendPassthrough {
		t.Fatalf("format %+v backend %s", res.Manifest.Format, res.Backend)
	}
	if d := fileDigest(t, home, res.Descriptor.Digest.String(), "model.onnx"); d != sha(merged.Data) {
		t.Fatalf("packaged model.onnx is not the merged decoder")
	}
}

// TestInstallModelScopeVariant: the same choice for ModelScope, reached by its
// ms:// spelling.
func TestInstallModelScopeVariant(t *testing.T) {
	ms := hubtest.NewModelScope(t)
	q4 := export(t, "onnx/model_q4.onnx", 12)
	files := append(sideFiles(), export(t, "onnx/model.onnx", 11), q4)
	if _, err := ms.Push(hubtest.MSRepo{ID: "qwen/tiny-onnx", Task: "text-classification", Files: files}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	res, err := install.Install(context.Background(), "ms://qwen/tiny-onnx", install.Options{Home: home, ModelScopeEndpoint: ms.URL, Variant: "q4"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Format.Variant != "q4" || res.Backend != converter.BackendPassthrough || res.Tags[0] != "modelscope/qwen/tiny-onnx@latest" {
		t.Fatalf("format %+v backend %s tags %v", res.Manifest.Format, res.Backend, res.Tags)
	}
	if d := fileDigest(t, home, res.Descriptor.Digest.String(), "model.onnx"); d != sha(q4.Data) {
		t.Fatal("packaged model.onnx is not the q4 export")
	}
}
