package mlos_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// affineDir is a model directory other tools would package: model.onnx, a
// README and a nested directory of code.
func affineDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), mlostest.AffineModel(t), 0o644); err != nil {
		t.Fatal(err)
	}
	artifacttest.WriteFile(t, dir, "README.md", "# affine\n")
	artifacttest.WriteFile(t, dir, "extra/src/a.py", "x = 1\n")
	return dir
}

func checkAffine(t *testing.T, model *mlos.Model) {
	t.Helper()
	x := [3]float32{1, 2, 3}
	outs, _, err := model.Infer(context.Background(), map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{1, 3}, Data: x[:]}})
	if err != nil {
		t.Fatal(err)
	}
	got, want := outs[0].Data.([]float32), mlostest.AffineRef(x)
	for j := range want {
		if math.Abs(float64(got[j]-want[j])) > 1e-5 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// mlosd serves ModelPack and ModelKit artifacts holding an ONNX model (the
// I/O schema read from the graph at load), from a registry and from an OCI
// layout, and refuses a GGUF Docker model in one line naming the converter.
func TestServeForeignArtifacts(t *testing.T) {
	ctx := context.Background()
	src := affineDir(t)
	mp, _ := artifacttest.ModelPack("acme/affine", false)
	mp.Layers = []artifacttest.Layer{
		{MediaType: "application/vnd.cncf.model.weight.v1.raw", Paths: []string{"model.onnx"}},
		{MediaType: "application/vnd.cncf.model.doc.v1.tar+zstd", Paths: []string{"README.md"}, Archive: "tar+zstd"},
		{MediaType: "application/vnd.cncf.model.code.v1.tar+gzip", Paths: []string{"extra"}, Archive: "tar+gzip"},
	}
	kit, _ := artifacttest.ModelKit("affine-kit")
	kit.Layers = []artifacttest.Layer{
		{MediaType: "application/vnd.kitops.modelkit.model.v1.tar+gzip", Paths: []string{"model.onnx"}, Archive: "tar+gzip"},
		{MediaType: "application/vnd.kitops.modelkit.docs.v1.tar+gzip", Paths: []string{"README.md"}, Archive: "tar+gzip"},
		{MediaType: "application/vnd.kitops.modelkit.code.v1.tar+gzip", Paths: []string{"extra"}, Archive: "tar+gzip"},
	}
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})

	layout := t.TempDir()
	st, err := oci.New(layout)
	if err != nil {
		t.Fatal(err)
	}
	artifacttest.Push(t, ctx, st, "kit", src, kit)
	model, err := m.Register(ctx, "oci-layout://"+layout+":kit", "")
	if err != nil {
		t.Fatalf("register a ModelKit: %v", err)
	}
	if model.Name != "oci/affine-kit" {
		t.Errorf("ModelKit served as %q", model.Name)
	}
	checkAffine(t, model)

	// From CNCF Distribution and from axon-registry, each into a fresh cache.
	regBin := testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon-registry")
	axonReg := testutil.FreeAddr(t)
	testutil.Start(t, nil, regBin, "--addr", axonReg, "--root", t.TempDir(), "--log-level", "error", "--ui=false")
	testutil.WaitHTTP(t, "http://"+axonReg+"/v2/", 30*time.Second)
	for _, reg := range []string{testutil.StartDistribution(t), axonReg} {
		m := newManager(t, t.TempDir(), mlos.BatchOptions{})
		repo, err := remote.NewRepository(reg + "/acme/affine")
		if err != nil {
			t.Fatal(err)
		}
		repo.PlainHTTP = true
		desc := artifacttest.Push(t, ctx, repo, "1.0", src, mp)
		model, err := m.Register(ctx, reg+"/acme/affine:1.0", "")
		if err != nil {
			t.Fatalf("register a ModelPack from %s: %v", reg, err)
		}
		if model.Name != "acme/affine" || model.Digest != desc.Digest.String() {
			t.Errorf("ModelPack served as %q %s", model.Name, model.Digest)
		}
		checkAffine(t, model)
		// Registered again by digest (restart, second replica): from the cache.
		if err := m.Unregister("acme/affine"); err != nil {
			t.Fatal(err)
		}
		model, err = m.Register(ctx, reg+"/acme/affine@"+desc.Digest.String(), "")
		if err != nil {
			t.Fatal(err)
		}
		checkAffine(t, model)
	}

	gg, extra := artifacttest.DockerModel(false)
	ggDir := t.TempDir()
	extra(t, ggDir)
	artifacttest.Push(t, ctx, st, "gguf", ggDir, gg)
	_, err = m.Register(ctx, "oci-layout://"+layout+":gguf", "")
	statusOf(t, err, http.StatusUnprocessableEntity)
	msg := err.Error()
	for _, want := range []string{"Docker Model Runner", "gguf", "model.gguf", "axon install oci://"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("refusal is not one line: %q", msg)
	}
}

// A ModelPack of a Hugging Face repository as modctl packs it (the ONNX
// export under onnx/, tokenizer and config beside it): mlosd finds the model
// file, reads the task and labels from config.json and the tokenizer as for
// axon packages, and classifies text.
func TestServeForeignTextModel(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	mp, _ := artifacttest.ModelPack("google-bert/bert-tiny", false)
	mp.Layers = nil
	for _, f := range hubtest.TinyBERT() {
		artifacttest.WriteFile(t, src, f.Path, string(f.Data))
		mt := "application/vnd.cncf.model.weight.v1.raw"
		if strings.HasSuffix(f.Path, ".json") || strings.HasSuffix(f.Path, ".txt") {
			mt = "application/vnd.cncf.model.weight.config.v1.raw"
		}
		mp.Layers = append(mp.Layers, artifacttest.Layer{MediaType: mt, Paths: []string{f.Path}})
	}
	layout := t.TempDir()
	st, err := oci.New(layout)
	if err != nil {
		t.Fatal(err)
	}
	artifacttest.Push(t, ctx, st, "1", src, mp)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	model, err := m.Register(ctx, "oci-layout://"+layout+":1", "")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	info := model.Info()
	if info.Name != "google-bert/bert-tiny" || info.Task != "text-classification" || len(info.Inputs) != 3 {
		t.Fatalf("served as %+v", info)
	}
	out, _, err := model.InferJSON(ctx, "Hello world", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(out); !strings.Contains(s, "POSITIVE") || !strings.Contains(s, "NEGATIVE") {
		t.Fatalf("answer %s", s)
	}
}

// mlosd refuses a ModelPack whose compressed layer is not the DiffID its
// config lists (422, one line), and leaves no unpacked model behind.
func TestServeModelPackWrongDiffID(t *testing.T) {
	ctx := context.Background()
	src := affineDir(t)
	mp, _ := artifacttest.ModelPack("acme/affine", false)
	mp.Layers = []artifacttest.Layer{
		{MediaType: "application/vnd.cncf.model.weight.v1.raw", Paths: []string{"model.onnx"}},
		{MediaType: "application/vnd.cncf.model.code.v1.tar+gzip", Paths: []string{"extra"}, Archive: "tar+gzip"},
	}
	good := mp.ConfigForDiffIDs
	mp.ConfigForDiffIDs = func(d []digest.Digest) any {
		return good([]digest.Digest{d[0], digest.FromString("not the code")})
	}
	layout := t.TempDir()
	st, err := oci.New(layout)
	if err != nil {
		t.Fatal(err)
	}
	artifacttest.Push(t, ctx, st, "bad", src, mp)
	data := t.TempDir()
	m := newManager(t, data, mlos.BatchOptions{})
	_, err = m.Register(ctx, "oci-layout://"+layout+":bad", "")
	statusOf(t, err, http.StatusUnprocessableEntity)
	if msg := err.Error(); !strings.Contains(msg, "layer extra: its uncompressed content is") || !strings.Contains(msg, "modelfs.diffIds says") || strings.Contains(msg, "\n") {
		t.Fatalf("refusal %q", msg)
	}
	if des, err := os.ReadDir(filepath.Join(data, "models")); err != nil || len(des) != 0 {
		t.Errorf("left %d unpacked models behind (%v)", len(des), err)
	}
}
