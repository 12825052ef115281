package converter

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/internal/testutil"
)

func pyRun(t *testing.T, py, script string, args ...string) string {
	t.Helper()
	// A file, not -c: torch.jit.script reads the source of the classes it compiles.
	f := filepath.Join(t.TempDir(), "script.py")
	if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, append([]string{f}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	return string(out)
}

// torchOutput is what a python script prints as its last line: {"shape": [...], "data": [...]}.
type torchOutput struct {
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

func lastJSON(t *testing.T, out string) torchOutput {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var o torchOutput
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &o); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return o
}

// runONNX runs a one-input float model in the real ONNX Runtime.
func runONNX(t *testing.T, model string, input []float32, shape ...int64) ([]float32, []int64) {
	t.Helper()
	if err := ort.Init(testutil.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	info, err := onnx.Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ortgo.NewTensor(ortgo.NewShape(shape...), input)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Destroy()
	s, err := ortgo.NewDynamicAdvancedSession(model, []string{info.Inputs[0].Name}, []string{info.Outputs[0].Name}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Destroy()
	outs := []ortgo.Value{nil}
	if err := s.Run([]ortgo.Value{in}, outs); err != nil {
		t.Fatal(err)
	}
	defer outs[0].Destroy()
	o := outs[0].(*ortgo.Tensor[float32])
	return append([]float32(nil), o.GetData()...), o.GetShape()
}

func compare(t *testing.T, got []float32, gotShape []int64, want torchOutput, tol float64) {
	t.Helper()
	if !slices.Equal(gotShape, want.Shape) || len(got) != len(want.Data) {
		t.Fatalf("ORT shape %v, torch shape %v", gotShape, want.Shape)
	}
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-want.Data[i]))
	}
	if d > tol {
		t.Errorf("ORT differs from torch by %g (tolerance %g)", d, tol)
	}
	t.Logf("ORT vs torch on a fresh batch: max abs diff %.3g", d)
}

// linspace is a deterministic input both sides can build.
func linspace(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.37))
	}
	return x
}

const pyLinspace = `
import math, torch
def linspace(*shape):
    n = 1
    for d in shape: n *= d
    return torch.tensor([math.sin(i * 0.37) for i in range(n)], dtype=torch.float32).reshape(*shape)
def emit(y):
    import json
    print(json.dumps({"shape": list(y.shape), "data": [float(v) for v in y.flatten()]}))
`

func TestTorchScript(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t)
	in, out := t.TempDir(), t.TempDir()
	pyRun(t, py, `
import sys, torch
torch.manual_seed(1)
m = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.Softmax(-1))
torch.jit.script(m).save(sys.argv[1])
`, filepath.Join(in, "model.pt"))

	if k, fw := Detect(in, nil); k != KindTorchScript || fw != "pytorch" {
		t.Errorf("Detect = %s %s", k, fw)
	}
	var progress strings.Builder
	res, err := Convert(context.Background(), Input{Dir: in, Framework: "pytorch", Kind: KindTorchScript}, out,
		Options{Backend: BackendLocal, Progress: &progress})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	if res.Backend != BackendLocal || res.Framework.Name != "pytorch" || !strings.HasPrefix(res.Framework.Version, "1.") && !strings.HasPrefix(res.Framework.Version, "2.") {
		t.Errorf("result %+v", res)
	}
	v := res.Validation
	if v == nil || !v.Passed || v.MaxAbsDiff > 1e-4 || v.Tolerance != DefaultTolerance || !strings.HasPrefix(v.Reference, "torch ") {
		t.Fatalf("validation %+v", v)
	}
	if res.Info.Inputs[0].Shape[0].Name != "batch" || res.Info.Inputs[0].Shape[1].Size != 6 {
		t.Errorf("input %+v: want a dynamic batch axis and 6 features", res.Info.Inputs[0])
	}
	if got := strings.Join(res.Files, ","); got != "model.onnx,original/model.pt" {
		t.Errorf("files %s", got)
	}
	if _, err := os.Stat(filepath.Join(out, "original", "model.pt")); err != nil {
		t.Error(err)
	}

	// Independently of Convert's own check: torch and ORT on a batch of 5.
	want := lastJSON(t, pyRun(t, py, pyLinspace+`
import sys
m = torch.jit.load(sys.argv[1])
emit(m(linspace(5, 6)))
`, filepath.Join(in, "model.pt")))
	got, shape := runONNX(t, filepath.Join(out, "model.onnx"), linspace(30), 5, 6)
	compare(t, got, shape, want, 1e-4)
}

const hubconf = `
dependencies = ["torch"]
import torch

class Tiny(torch.nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, classes)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))

def tiny(*, weights=None, progress=True, classes=5):
    """A tiny convnet; like torchvision's, it is random unless asked for weights="DEFAULT",
    which come through torch.hub."""
    m = Tiny(classes)
    if weights == "DEFAULT":
        m.load_state_dict(torch.hub.load_state_dict_from_url("https://download.invalid/models/tiny-0a1b2c3d.pth", progress=progress))
    elif weights is not None:
        raise ValueError("unknown weights %r" % weights)
    return m

def tiny_missing(pretrained=True):
    m = Tiny()
    m.load_state_dict(torch.hub.load_state_dict_from_url("https://download.invalid/models/absent-99.pth", progress=False))
    return m
`

// makeHubRepo writes a hubconf repo, as a zipball unpacks (one top directory), and
// a checkpoint with random weights (BatchNorm statistics included).
func makeHubRepo(t *testing.T, py string) string {
	in := t.TempDir()
	repo := filepath.Join(in, "owner-tiny-abc123")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "hubconf.py"), []byte(hubconf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(in, "checkpoints"), 0o755); err != nil {
		t.Fatal(err)
	}
	pyRun(t, py, `
import sys, torch
sys.path.insert(0, sys.argv[1])
import hubconf
torch.manual_seed(3)
m = hubconf.Tiny()
with torch.no_grad():
    m.bn.running_mean.uniform_(-0.5, 0.5); m.bn.running_var.uniform_(0.5, 2.0)
torch.save(m.state_dict(), sys.argv[2])
`, repo, filepath.Join(in, "checkpoints", "tiny-0a1b2c3d.pth"))
	return in
}

func TestHubconf(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t)
	in, out := makeHubRepo(t, py), t.TempDir()
	if k, _ := Detect(in, nil); k != KindHubconf {
		t.Errorf("Detect = %q", k)
	}
	res, err := Convert(context.Background(), Input{Dir: in, Framework: "pytorch", Kind: KindHubconf, Entrypoint: "tiny"}, out, Options{Backend: BackendLocal})
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Validation; v == nil || !v.Passed || v.MaxAbsDiff > 1e-4 {
		t.Fatalf("validation %+v", v)
	}
	in0 := res.Info.Inputs[0]
	if in0.Shape[0].Name != "batch" || in0.Shape[1].Size != 3 || in0.Shape[2].Size != 224 {
		t.Errorf("input %+v", in0)
	}
	if !strings.Contains(strings.Join(res.Originals, ","), "original/checkpoints/tiny-0a1b2c3d.pth") {
		t.Errorf("originals %v", res.Originals)
	}

	// torch with the checkpoint loaded by hand vs ORT, batch 3.
	want := lastJSON(t, pyRun(t, py, pyLinspace+`
import sys
sys.path.insert(0, sys.argv[1])
import hubconf
m = hubconf.Tiny(); m.load_state_dict(torch.load(sys.argv[2])); m.eval()
with torch.no_grad(): emit(m(linspace(3, 3, 224, 224)))
`, filepath.Join(in, "owner-tiny-abc123"), filepath.Join(in, "checkpoints", "tiny-0a1b2c3d.pth")))
	got, shape := runONNX(t, filepath.Join(out, "model.onnx"), linspace(3*3*224*224), 3, 3, 224, 224)
	compare(t, got, shape, want, 1e-4)

	// The same weights loaded by axon from a state dict file, with entrypoint kwargs.
	if err := os.MkdirAll(filepath.Join(in, "weights"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(in, "checkpoints", "tiny-0a1b2c3d.pth"), filepath.Join(in, "weights", "tiny.pth")); err != nil {
		t.Fatal(err)
	}
	out2 := t.TempDir()
	res, err = Convert(context.Background(), Input{Dir: in, Kind: KindHubconf, Entrypoint: "tiny",
		Extra: map[string]string{ExtraWeights: "weights/tiny.pth", ExtraKwargs: `{"weights": null}`, ExtraInputShape: "2,3,64,64"}},
		out2, Options{Backend: BackendLocal, NoOriginals: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Info.Inputs[0].Shape[2].Size != 64 || len(res.Originals) != 0 {
		t.Errorf("input %+v originals %v", res.Info.Inputs[0], res.Originals)
	}
	if _, err := os.Stat(filepath.Join(out2, "original")); !os.IsNotExist(err) {
		t.Error("original/ written despite NoOriginals")
	}

	// A checkpoint that was not fetched is never downloaded.
	_, err = Convert(context.Background(), Input{Dir: in, Kind: KindHubconf, Entrypoint: "tiny_missing"}, t.TempDir(), Options{Backend: BackendLocal})
	if !errors.Is(err, ErrScriptFailed) || !strings.Contains(err.Error(), "https://download.invalid/models/absent-99.pth") {
		t.Errorf("missing checkpoint: %v", err)
	}
}

// TestBakedBatch: a model whose trace bakes the batch size in is caught at the
// second batch size, and converts with dynamic_batch=false.
func TestBakedBatch(t *testing.T) {
	t.Parallel()
	testutil.Python(t)
	in := t.TempDir()
	hub := `
dependencies = ["torch"]
import torch
class Baked(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.lin = torch.nn.Linear(6, 3)
    def forward(self, x):
        n = int(x.shape[0])  # a Python int: the trace records the sample's batch size
        return self.lin(x).reshape(n, 3)
def baked():
    torch.manual_seed(0)
    return Baked()
`
	if err := os.WriteFile(filepath.Join(in, "hubconf.py"), []byte(hub), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Convert(context.Background(), Input{Dir: in, Kind: KindHubconf, Entrypoint: "baked"}, t.TempDir(), Options{Backend: BackendLocal})
	if !errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "batch size 1") || !strings.Contains(err.Error(), "dynamic_batch=false") {
		t.Fatalf("want a batch-size validation error, got %v", err)
	}
	t.Log(err)
	res, err := Convert(context.Background(), Input{Dir: in, Kind: KindHubconf, Entrypoint: "baked", Extra: map[string]string{ExtraDynamicBatch: "false"}}, t.TempDir(), Options{Backend: BackendLocal})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Info.Inputs[0].Shape; s[0].Symbolic() || s[0].Size != 2 || !res.Validation.Passed {
		t.Errorf("fixed-batch export: input %+v validation %+v", res.Info.Inputs[0], res.Validation)
	}
}

func TestValidationCatchesMismatch(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t)
	in := t.TempDir()
	// torch.rand in forward exports as RandomUniformLike: ORT draws other numbers.
	pyRun(t, py, `
import sys, torch
class Noisy(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.lin = torch.nn.Linear(4, 4)
    def forward(self, x):
        return self.lin(x) + torch.rand_like(x)
torch.jit.script(Noisy()).save(sys.argv[1])
`, filepath.Join(in, "noisy.pt"))
	out := t.TempDir()
	_, err := Convert(context.Background(), Input{Dir: in, Kind: KindTorchScript}, out, Options{Backend: BackendLocal})
	if !errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "--skip-validation") {
		t.Fatalf("want a validation error, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "model.onnx")); err == nil {
		t.Error("a model that failed validation was written")
	}
	res, err := Convert(context.Background(), Input{Dir: in, Kind: KindTorchScript}, out, Options{Backend: BackendLocal, SkipValidation: true})
	if err != nil || res.Validation != nil {
		t.Fatalf("skip validation: %v %+v", err, res)
	}
}

func TestPassthrough(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(in, "onnx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := onnx.TinyMLP(4, 6, 2, 9).WriteFileExternal(filepath.Join(in, "onnx", "model.onnx"), "model.onnx_data"); err != nil {
		t.Fatal(err)
	}
	if err := onnx.TinyMLP(4, 6, 2, 1).WriteFile(filepath.Join(in, "onnx", "model_quantized.onnx")); err != nil {
		t.Fatal(err)
	}
	// The auto backend needs neither Docker nor Python for ONNX.
	res, err := Convert(context.Background(), Input{Dir: in, Framework: "onnx"}, out, Options{Docker: "/nonexistent/docker", Python: "/nonexistent/python3"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Backend != BackendPassthrough || strings.Join(res.Files, ",") != "model.onnx,model.onnx_data" || res.Validation != nil {
		t.Errorf("result %+v", res)
	}
	if res.Format.Opset != onnx.DefaultOpset || res.Info.Parameters != 4*6+6+6*2+2 {
		t.Errorf("format %+v parameters %d", res.Format, res.Info.Parameters)
	}
	// The placed model runs in ORT with its external data, and gives the source's numbers.
	x := linspace(8)
	got, shape := runONNX(t, filepath.Join(out, "model.onnx"), x, 2, 4)
	ref, _ := runONNX(t, filepath.Join(in, "onnx", "model.onnx"), x, 2, 4)
	if shape[0] != 2 || shape[1] != 2 || !slices.Equal(got, ref) {
		t.Errorf("passthrough model gives %v, source %v", got, ref)
	}

	// A broken ONNX file is refused with a clear error.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "model.onnx"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Convert(context.Background(), Input{Dir: bad}, t.TempDir(), Options{}); !errors.Is(err, onnx.ErrNotONNX) {
		t.Errorf("broken model: %v", err)
	}
	// Missing external data is refused.
	if err := os.Remove(filepath.Join(in, "onnx", "model.onnx_data")); err != nil {
		t.Fatal(err)
	}
	if _, err := Convert(context.Background(), Input{Dir: in, Kind: KindONNX}, t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "model.onnx_data") {
		t.Errorf("missing external data: %v", err)
	}
	// An escaping model path is refused.
	if _, err := Convert(context.Background(), Input{Dir: in, Kind: KindONNX, Extra: map[string]string{ExtraModel: "../x.onnx"}}, t.TempDir(), Options{}); err == nil {
		t.Error("escaping model path accepted")
	}
}

func TestMissingFramework(t *testing.T) {
	ctx := context.Background()
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "saved_model.pb"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if FindPython(ctx, "tensorflow", "tf2onnx") == "" {
		_, err := Convert(ctx, Input{Dir: in, Kind: KindSavedModel}, t.TempDir(), Options{Backend: BackendLocal})
		if !errors.Is(err, ErrFrameworkMissing) || !strings.Contains(err.Error(), "pip install tensorflow tf2onnx") || !strings.Contains(err.Error(), "--converter docker") {
			t.Errorf("local without tensorflow: %v", err)
		}
		// Neither way available: the error names both.
		_, err = Convert(ctx, Input{Dir: in, Kind: KindSavedModel}, t.TempDir(), Options{Docker: "/nonexistent/docker"})
		if !errors.Is(err, ErrNoBackend) || !strings.Contains(err.Error(), "Docker") || !strings.Contains(err.Error(), "--converter local") || !strings.Contains(err.Error(), "docker build -t axon-converter:latest deploy/converter") {
			t.Errorf("auto without tensorflow or docker: %v", err)
		}
	}

	if FindPython(ctx, "transformers") == "" {
		_, err := Convert(ctx, Input{Dir: in, Kind: KindTransformers}, t.TempDir(), Options{Backend: BackendLocal})
		if !errors.Is(err, ErrFrameworkMissing) || !strings.Contains(err.Error(), "transformers") || !strings.Contains(err.Error(), "pip install") {
			t.Errorf("local without transformers: %v", err)
		}
	}

	// A python without torch, named explicitly: the script itself reports what to install.
	noTorch := ""
	for _, c := range PythonCandidates() {
		if c != "" && exec.Command(c, "-c", "import numpy").Run() != nil || c != "" && exec.Command(c, "-c", "import torch").Run() != nil {
			if _, err := exec.LookPath(c); err == nil {
				noTorch = c
				break
			}
		}
	}
	if noTorch == "" {
		t.Skip("every python3 here imports torch and numpy")
	}
	if err := os.WriteFile(filepath.Join(in, "model.pt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Convert(ctx, Input{Dir: in, Kind: KindTorchScript}, t.TempDir(), Options{Backend: BackendLocal, Python: noTorch})
	if !errors.Is(err, ErrFrameworkMissing) || !strings.Contains(err.Error(), "pip install torch") || !strings.Contains(err.Error(), "python3-torch") {
		t.Errorf("python without torch (%s): %v", noTorch, err)
	}
}

func TestBackendSelection(t *testing.T) {
	ctx := context.Background()
	py := testutil.Python(t)
	in := Input{Dir: t.TempDir(), Kind: KindTorchScript}

	// --converter docker without an engine fails and says what to do.
	for _, docker := range []string{"/nonexistent/docker", "docker"} {
		if docker == "docker" && DockerAvailable(ctx, docker) == nil {
			continue // a real engine answers here
		}
		_, err := New(ctx, in, Options{Backend: BackendDocker, Docker: docker})
		if !errors.Is(err, ErrNoBackend) || !strings.Contains(err.Error(), "--converter local") || !strings.Contains(err.Error(), "Docker") {
			t.Errorf("docker %s: %v", docker, err)
		}
	}
	// auto falls back to the local python when Docker does not answer or has no image.
	for _, o := range []Options{{Docker: "/nonexistent/docker"}, {Image: "axon-converter-test:absent"}} {
		c, err := New(ctx, in, o)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name() != BackendLocal || c.(*Python).runner.(*localRunner).python == "" {
			t.Errorf("auto picked %s", c.Name())
		}
	}
	c, err := New(ctx, in, Options{Backend: BackendLocal, Python: py})
	if err != nil || c.(*Python).runner.(*localRunner).python != py {
		t.Errorf("explicit python: %v", err)
	}
	if _, err := New(ctx, in, Options{Backend: "kubernetes"}); err == nil {
		t.Error("unknown backend accepted")
	}
	if _, err := New(ctx, Input{Dir: in.Dir, Kind: "caffe"}, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := Convert(ctx, Input{Dir: t.TempDir()}, t.TempDir(), Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("empty dir: %v", err)
	}
}

func TestDockerCommand(t *testing.T) {
	d := &dockerRunner{docker: "docker", image: "axon-converter:1"}
	j := &job{inDir: "/models/m", work: "/tmp/w", torchHome: "/models/m/torch_home"}
	got := strings.Join(d.args(j, "axon-convert-x"), " ")
	for _, want := range []string{"run --rm --name axon-convert-x --network none", "-v /models/m:/in:ro", "-v /tmp/w:/work",
		"-v /models/m/torch_home:/torch_home:ro", "--entrypoint python3 axon-converter:1 /work/convert.py --spec /work/spec.json"} {
		if !strings.Contains(got, want) {
			t.Errorf("docker %s\nlacks %q", got, want)
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t)
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "model.pt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// Importing torch alone takes longer than this.
	_, err := Convert(context.Background(), Input{Dir: in, Kind: KindTorchScript}, t.TempDir(), Options{Backend: BackendLocal, Python: py, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("want timeout, got %v", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("timeout took %s", time.Since(start))
	}
}

func TestBadTorchScriptMessage(t *testing.T) {
	t.Parallel()
	py := testutil.Python(t)
	in := t.TempDir()
	pyRun(t, py, `
import sys, torch
torch.save({"w": torch.zeros(2)}, sys.argv[1])
`, filepath.Join(in, "weights.pt"))
	if k, _ := Detect(in, nil); k != "" {
		t.Errorf("a plain state dict detected as %q", k)
	}
	_, err := Convert(context.Background(), Input{Dir: in, Kind: KindTorchScript}, t.TempDir(), Options{Backend: BackendLocal, Python: py})
	if !errors.Is(err, ErrScriptFailed) || !strings.Contains(err.Error(), "not a TorchScript archive") {
		t.Errorf("got %v", err)
	}
}

func TestDetect(t *testing.T) {
	for want, files := range map[string][]string{
		KindONNX:         {"config.json", "onnx/model.onnx", "model.safetensors"},
		KindTransformers: {"config.json", "model.safetensors", "tokenizer.json"},
		KindSavedModel:   {"saved_model.pb", "variables/variables.index"},
		KindHubconf:      {"repo-abc/hubconf.py", "repo-abc/models.py"},
		"":               {"README.md"},
	} {
		if got, _ := Detect(t.TempDir(), files); got != want {
			t.Errorf("Detect(%v) = %q, want %q", files, got, want)
		}
	}
}

func TestTailMessage(t *testing.T) {
	w := &tailWriter{}
	w.Write([]byte("Traceback...\n  File x\naxon-convert: error: the thing broke\n"))
	if w.message() != "the thing broke" {
		t.Errorf("%q", w.message())
	}
	w = &tailWriter{}
	w.Write([]byte(strings.Repeat("noise line\n", 5000) + "Killed\n"))
	if !strings.HasSuffix(w.message(), "Killed") || w.buf.Len() > 2*tailKeep {
		t.Errorf("%q", w.message())
	}
}
