package install_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/converter"
	"github.com/mlos-foundation/axon/install"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/schemas"
)

func bertHub(t *testing.T) (*hubtest.HF, string) {
	h := hubtest.NewHF(t)
	h.PageSize = 4
	sha := h.MustPush(t, hubtest.HFRepo{
		ID: "google-bert/bert-base-uncased", Aliases: []string{"bert-base-uncased"},
		LibraryName: "transformers", License: "apache-2.0", Files: hubtest.TinyBERT(),
	})
	return h, sha
}

// readManifest reads the manifest.yaml of the package ref in st.
func readManifest(t *testing.T, st *store.Store, ref string) *schemas.Manifest {
	t.Helper()
	pkg, err := st.Read(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return pkg.Manifest
}

func checkBERTManifest(t *testing.T, m *schemas.Manifest, sha string) {
	t.Helper()
	if m.Source == nil || m.Source.Hub != "hf" || m.Source.ID != "google-bert/bert-base-uncased" || m.Source.Revision != sha || m.Source.License != "apache-2.0" || m.Source.Created == "" {
		t.Errorf("source = %+v, want hf google-bert/bert-base-uncased@%s", m.Source, sha)
	}
	var names []string
	for _, in := range m.IO.Inputs {
		names = append(names, in.Name)
		if in.DType != "int64" || len(in.Shape) != 2 || in.Shape[0].Name != "batch" || in.Shape[1].Name != "sequence" {
			t.Errorf("input %s: %s %v, want int64 [batch, sequence]", in.Name, in.DType, in.Shape)
		}
	}
	if !slices.Equal(names, []string{"input_ids", "attention_mask", "token_type_ids"}) {
		t.Errorf("inputs = %v", names)
	}
	if len(m.IO.Outputs) != 1 || m.IO.Outputs[0].Name != "logits" {
		t.Errorf("outputs = %+v", m.IO.Outputs)
	}
	if m.Task != "text-classification" || !slices.Equal(m.Labels, []string{"NEGATIVE", "POSITIVE"}) {
		t.Errorf("task %q labels %v", m.Task, m.Labels)
	}
	if m.Preprocessing == nil || m.Preprocessing.Tokenizer == nil || m.Preprocessing.Tokenizer.Type != "wordpiece" ||
		!slices.Contains(m.Preprocessing.Tokenizer.Files, "tokenizer.json") || m.Preprocessing.Tokenizer.MaxLength != 64 {
		t.Errorf("preprocessing = %+v", m.Preprocessing)
	}
	if m.Resources.Parameters == 0 || m.Resources.Bytes == 0 || m.Format.Opset != 14 {
		t.Errorf("resources %+v format %+v", m.Resources, m.Format)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
	}
	for _, want := range []string{"model.onnx", "config.json", "tokenizer.json", "vocab.txt"} {
		if !slices.Contains(paths, want) {
			t.Errorf("package lacks %s: %v", want, paths)
		}
	}
	if slices.Contains(paths, "pytorch_model.bin") {
		t.Errorf("package holds the PyTorch duplicate: %v", paths)
	}
}

func TestInstallHFBertThenReinstall(t *testing.T) {
	h, sha := bertHub(t)
	home := t.TempDir()
	ctx := context.Background()
	opts := install.Options{Home: home, HFEndpoint: h.URL}
	res, err := install.Install(ctx, "hf/bert-base-uncased@latest", opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backend != converter.BackendPassthrough || res.Reused {
		t.Errorf("backend %q reused %v", res.Backend, res.Reused)
	}
	if !slices.Equal(res.Tags, []string{"hf/bert-base-uncased@latest", "hf/bert-base-uncased@" + sha}) {
		t.Errorf("tags = %v", res.Tags)
	}
	st, err := store.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range res.Tags {
		d, err := st.Resolve(ctx, tag)
		if err != nil || d.Digest != res.Descriptor.Digest {
			t.Fatalf("%s resolves to %v, %v", tag, d.Digest, err)
		}
	}
	m := readManifest(t, st, res.Descriptor.Digest.String())
	checkBERTManifest(t, m, sha)

	gets, served := h.Faults.FileGets.Load(), h.Faults.BytesServed.Load()
	res2, err := install.Install(ctx, "hf/bert-base-uncased@latest", opts)
	if err != nil {
		t.Fatal(err)
	}
	if h.Faults.FileGets.Load() != gets || h.Faults.BytesServed.Load() != served || res2.Model.Downloaded != 0 {
		t.Fatalf("reinstall downloaded %d files", h.Faults.FileGets.Load()-gets)
	}
	if res2.Descriptor.Digest != res.Descriptor.Digest {
		t.Errorf("reinstall gave %s, first %s", res2.Descriptor.Digest, res.Descriptor.Digest)
	}
	// Forced: converted and packed again from the cache, same digest (reproducible).
	opts.Force = true
	res3, err := install.Install(ctx, "hf/bert-base-uncased@"+sha, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res3.Reused || res3.Descriptor.Digest != res.Descriptor.Digest || res3.Model.Downloaded != 0 {
		t.Errorf("forced reinstall: reused %v digest %s (first %s), downloaded %d", res3.Reused, res3.Descriptor.Digest, res.Descriptor.Digest, res3.Model.Downloaded)
	}
}

func TestInstallErrorsAreClear(t *testing.T) {
	h, _ := bertHub(t)
	opts := install.Options{Home: t.TempDir(), HFEndpoint: h.URL}
	_, err := install.Install(context.Background(), "hf/google-bert/bert-base-uncased@nope", opts)
	if !errors.Is(err, adapters.ErrNotFound) || !strings.Contains(err.Error(), `revision "nope"`) {
		t.Errorf("err = %v", err)
	}
	if _, err := install.Install(context.Background(), "npm/left-pad", opts); !errors.Is(err, adapters.ErrBadRef) {
		t.Errorf("err = %v", err)
	}
	// Globs that leave no model: say so, name the files and the flags, not a temporary directory.
	opts.Exclude = []string{"onnx/**"}
	_, err = install.Install(context.Background(), "hf/google-bert/bert-base-uncased", opts)
	if !errors.Is(err, converter.ErrUnsupported) || !strings.Contains(err.Error(), "files README.md, config.json") ||
		!strings.Contains(err.Error(), "config.json") || !strings.HasSuffix(err.Error(), "(check --include / --exclude)") || strings.Contains(err.Error(), "install-") {
		t.Errorf("install with everything excluded: %v", err)
	}
}

// TestAxonInstallCLI runs the real axon binary against the replica, configured
// only through the environment users know (HF_ENDPOINT, AXON_HOME).
func TestAxonInstallCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the axon binary")
	}
	h, sha := bertHub(t)
	bin := testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon")
	home := t.TempDir()
	env := append(os.Environ(), "HF_ENDPOINT="+h.URL, "AXON_HOME="+home, "HF_TOKEN=hf_unused")
	run := func(args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("axon %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	out := run("install", "hf/bert-base-uncased@latest", "--quiet")
	if !strings.Contains(out, "hf/bert-base-uncased@latest") || !strings.Contains(out, sha) {
		t.Fatalf("install said %q", out)
	}
	if n := h.AuthOnCDN.Load(); n != 0 {
		t.Errorf("HF_TOKEN reached the CDN host %d times", n)
	}
	st, err := store.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	m := readManifest(t, st, "hf/bert-base-uncased@latest")
	checkBERTManifest(t, m, sha)
	y, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: input_ids", "name: attention_mask", "name: token_type_ids", "- batch", "- sequence"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("manifest.yaml lacks %q:\n%s", want, y)
		}
	}
	gets := h.Faults.FileGets.Load()
	out = run("install", "hf/bert-base-uncased@latest")
	if h.Faults.FileGets.Load() != gets || !strings.Contains(out, "0 files downloaded") {
		t.Errorf("reinstall downloaded again: %s", out)
	}
}

// TestInstallPyTorchHubConverts installs a hubconf model through the PyTorch Hub
// replica with the real converter (python backend, local torch) and checks ONNX
// Runtime against torch.
func TestInstallPyTorchHubConverts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs torch")
	}
	py := testutil.Python(t)
	testutil.ORTLibrary(t)
	g := hubtest.NewGitHub(t)
	sha, _ := g.PushTinyNet("acme", "tinyvision", "")
	home := t.TempDir()
	opts := install.Options{Home: home, GitHubAPI: g.API, Converter: converter.Options{Backend: converter.BackendLocal, Python: py}}
	ctx := context.Background()
	res, err := install.Install(ctx, "pytorch/acme/tinyvision/tinynet@latest", opts)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if res.Backend != converter.BackendLocal || m.Framework.Name != "pytorch" || m.Source.Revision != sha || m.Source.Hub != "pytorch" {
		t.Errorf("backend %s framework %+v source %+v", res.Backend, m.Framework, m.Source)
	}
	if m.Validation == nil || !m.Validation.Passed || m.Validation.MaxAbsDiff > 1e-4 || m.Validation.Tolerance > 1e-4 {
		t.Fatalf("validation = %+v, want ORT within 1e-4 of torch", m.Validation)
	}
	t.Logf("validation %+v, inputs %+v, outputs %+v", *m.Validation, m.IO.Inputs, m.IO.Outputs)
	if len(m.IO.Inputs) != 1 || len(m.IO.Inputs[0].Shape) != 4 || len(m.IO.Outputs) != 1 {
		t.Errorf("io = %+v", m.IO)
	}
	var originals int
	for _, f := range m.Files {
		if f.Role == schemas.RoleOriginal {
			originals++
		}
	}
	if originals == 0 {
		t.Error("no original files kept")
	}
	gets := g.Faults.FileGets.Load()
	res2, err := install.Install(ctx, "pytorch/acme/tinyvision/tinynet@latest", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Reused || g.Faults.FileGets.Load() != gets || res2.Descriptor.Digest != res.Descriptor.Digest {
		t.Errorf("reinstall: reused %v, %d downloads", res2.Reused, g.Faults.FileGets.Load()-gets)
	}
}

func TestInstallLocalDirectory(t *testing.T) {
	src := t.TempDir()
	for _, f := range hubtest.TinyBERT() {
		p := filepath.Join(src, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	res, err := install.Install(context.Background(), "file://"+src, install.Options{Home: home, Name: "team/tiny-bert"})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.Source.Hub != "local" || !strings.HasPrefix(m.Source.Revision, "sha256-") || len(m.IO.Inputs) != 3 || res.Tags[0] != "team/tiny-bert@latest" {
		t.Errorf("source %+v inputs %d tags %v", m.Source, len(m.IO.Inputs), res.Tags)
	}
	// The same directory is the same revision: the second install reuses the package.
	res2, err := install.Install(context.Background(), src, install.Options{Home: home, Name: "team/tiny-bert"})
	if err != nil || !res2.Reused || res2.Descriptor.Digest != res.Descriptor.Digest {
		t.Fatalf("second install: %v reused=%v", err, res2 != nil && res2.Reused)
	}
}

// TestInstallTFHubNeedsAConverter: a SavedModel from the TF Hub replica reaches the
// converter as a tensorflow savedmodel; without TensorFlow or Docker here the user
// gets one line naming both ways.
func TestInstallTFHubNeedsAConverter(t *testing.T) {
	ctx := context.Background()
	if converter.FindPython(ctx, "tensorflow", "tf2onnx") != "" || converter.DockerAvailable(ctx, "docker") == nil {
		t.Skip("a TensorFlow converter backend is available here")
	}
	h := hubtest.NewTFHub(t)
	if err := h.Add("google", "tiny", 3, []hubtest.File{
		hubtest.Bytes("saved_model.pb", []byte("\x08\x01")), hubtest.Bytes("variables/variables.index", []byte("i")),
	}); err != nil {
		t.Fatal(err)
	}
	_, err := install.Install(ctx, "tfhub/google/tiny@latest", install.Options{Home: t.TempDir(), TFHubEndpoint: h.URL})
	if !errors.Is(err, converter.ErrNoBackend) || !strings.Contains(err.Error(), "tensorflow") || !strings.Contains(err.Error(), "tfhub/google/tiny@latest") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

func TestPackageName(t *testing.T) {
	for ref, want := range map[string]string{
		"hf/BAAI/bge-small-en-v1.5":                   "hf/baai/bge-small-en-v1.5",
		"hf/bert-base-uncased@latest":                 "hf/bert-base-uncased",
		"pytorch/pytorch/vision/resnet50":             "pytorch/pytorch/vision/resnet50",
		"tfhub/google/imagenet/mobilenet_v2/5":        "tfhub/google/imagenet/mobilenet_v2",
		"modelscope/damo/nlp_structbert_sentiment@v1": "modelscope/damo/nlp_structbert_sentiment",
		"file:///srv/My Models/Tiny":                  "local/tiny",
	} {
		r, err := adapters.ParseRef(ref)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if got, err := install.PackageName(r, ""); err != nil || got != want {
			t.Errorf("PackageName(%s) = %q, %v; want %q", ref, got, err, want)
		}
	}
	wd, _ := os.Getwd()
	r, _ := adapters.ParseRef(".")
	if got, err := install.PackageName(r, ""); err != nil || got != "local/"+strings.ToLower(filepath.Base(wd)) {
		t.Errorf("PackageName(.) = %q, %v", got, err)
	}
	for v, want := range map[string]string{"refs/pr/1": "refs-pr-1", "main": "main", "5": "5", "": "latest"} {
		if got := install.VersionTag(v); got != want {
			t.Errorf("VersionTag(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestInstallModelScope(t *testing.T) {
	ms := hubtest.NewModelScope(t)
	commit, err := ms.Push(hubtest.MSRepo{ID: "damo/tiny-bert", License: "Apache License 2.0", Task: "text-classification", Files: hubtest.TinyBERT()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := install.Install(context.Background(), "modelscope/damo/tiny-bert@latest", install.Options{Home: t.TempDir(), ModelScopeEndpoint: ms.URL})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if m.Source.Hub != "modelscope" || m.Source.Revision != commit || m.Task != "text-classification" || len(m.IO.Inputs) != 3 || m.License != "Apache License 2.0" {
		t.Errorf("manifest: source %+v task %s inputs %d license %q", m.Source, m.Task, len(m.IO.Inputs), m.License)
	}
	if !slices.Equal(res.Tags, []string{"modelscope/damo/tiny-bert@latest", "modelscope/damo/tiny-bert@" + commit}) {
		t.Errorf("tags %v", res.Tags)
	}
}
