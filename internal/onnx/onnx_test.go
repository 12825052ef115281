package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/schemas"
)

var ortOnce sync.Once
var ortErr error

// initORT starts the real ONNX Runtime once per test binary.
func initORT(t *testing.T) {
	t.Helper()
	lib := testutil.ORTLibrary(t)
	ortOnce.Do(func() {
		ort.SetSharedLibraryPath(lib)
		ortErr = ort.InitializeEnvironment()
	})
	if ortErr != nil {
		t.Fatalf("init onnx runtime: %v", ortErr)
	}
}

// runORT runs the model at path on float or int64 inputs and returns the float32 outputs.
func runORT(t *testing.T, path string, inputs map[string]ort.Value, order []string, outputs []string) [][]float32 {
	t.Helper()
	initORT(t)
	s, err := ort.NewDynamicAdvancedSession(path, order, outputs, nil)
	if err != nil {
		t.Fatalf("onnx runtime refused the model: %v", err)
	}
	defer s.Destroy()
	ins := make([]ort.Value, len(order))
	for i, n := range order {
		ins[i] = inputs[n]
	}
	outs := make([]ort.Value, len(outputs))
	if err := s.Run(ins, outs); err != nil {
		t.Fatalf("run: %v", err)
	}
	var res [][]float32
	for _, o := range outs {
		res = append(res, append([]float32(nil), o.(*ort.Tensor[float32]).GetData()...))
		o.Destroy()
	}
	return res
}

func dim(v any) schemas.Dim {
	if s, ok := v.(string); ok {
		return schemas.Dim{Size: -1, Name: s}
	}
	return schemas.Dim{Size: int64(v.(int))}
}

func tensor(name, dtype string, dims ...any) schemas.Tensor {
	t := schemas.Tensor{Name: name, DType: dtype, Shape: []schemas.Dim{}}
	for _, d := range dims {
		t.Shape = append(t.Shape, dim(d))
	}
	return t
}

// mlpRef computes TinyMLP in Go from the same seeded weights.
func mlpRef(in, hidden, out int, seed uint64, x []float32, batch int) []float32 {
	r := newRand(seed)
	w1, b1, w2, b2 := r.floats(in*hidden), r.floats(hidden), r.floats(hidden*out), r.floats(out)
	y := make([]float32, batch*out)
	for n := 0; n < batch; n++ {
		h := make([]float32, hidden)
		for j := 0; j < hidden; j++ {
			s := b1[j]
			for i := 0; i < in; i++ {
				s += x[n*in+i] * w1[i*hidden+j]
			}
			h[j] = max(s, 0)
		}
		for k := 0; k < out; k++ {
			s := b2[k]
			for j := 0; j < hidden; j++ {
				s += h[j] * w2[j*out+k]
			}
			y[n*out+k] = s
		}
	}
	return y
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

func TestMLPInspectAndRun(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.onnx")
	if err := TinyMLP(4, 5, 3, 7).WriteFile(p); err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.IRVersion != DefaultIRVersion || info.Opset != DefaultOpset {
		t.Errorf("ir %d opset %d", info.IRVersion, info.Opset)
	}
	if want := []schemas.Tensor{tensor("x", "float32", "batch", 4)}; !reflect.DeepEqual(info.Inputs, want) {
		t.Errorf("inputs %+v, want %+v (initializers must not be inputs)", info.Inputs, want)
	}
	if want := []schemas.Tensor{tensor("y", "float32", "batch", 3)}; !reflect.DeepEqual(info.Outputs, want) {
		t.Errorf("outputs %+v, want %+v", info.Outputs, want)
	}
	if want := int64(4*5 + 5 + 5*3 + 3); info.Parameters != want || info.Initializers != 4 {
		t.Errorf("parameters %d initializers %d, want %d and 4", info.Parameters, info.Initializers, want)
	}
	if len(info.ExternalData) != 0 {
		t.Errorf("external data %v", info.ExternalData)
	}

	// The dynamic batch axis works in the real runtime, and the numbers are the MLP's.
	for _, batch := range []int{1, 3} {
		x := make([]float32, batch*4)
		for i := range x {
			x[i] = float32(i%7) - 2.5
		}
		xt, err := func() (*ort.Tensor[float32], error) {
			initORT(t)
			return ort.NewTensor(ort.NewShape(int64(batch), 4), x)
		}()
		if err != nil {
			t.Fatal(err)
		}
		got := runORT(t, p, map[string]ort.Value{"x": xt}, []string{"x"}, []string{"y"})
		xt.Destroy()
		if d := maxDiff(got[0], mlpRef(4, 5, 3, 7, x, batch)); d > 1e-5 {
			t.Errorf("batch %d: ORT differs from the reference by %g", batch, d)
		}
	}
}

func TestTextClassifier(t *testing.T) {
	for _, bert := range []bool{false, true} {
		dir := t.TempDir()
		p := filepath.Join(dir, "model.onnx")
		o := TextClassifierOptions{Vocab: 20, Dim: 6, Classes: 3, Seed: 1, BERTInputs: bert}
		if err := TinyTextClassifier(o).WriteFile(p); err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(p)
		if err != nil {
			t.Fatal(err)
		}
		want := []schemas.Tensor{tensor("input_ids", "int64", "batch", "sequence")}
		if bert {
			want = append(want, tensor("attention_mask", "int64", "batch", "sequence"), tensor("token_type_ids", "int64", "batch", "sequence"))
		}
		if !reflect.DeepEqual(info.Inputs, want) {
			t.Errorf("bert=%v inputs %+v", bert, info.Inputs)
		}
		if !reflect.DeepEqual(info.Outputs, []schemas.Tensor{tensor("probs", "float32", "batch", 3)}) {
			t.Errorf("outputs %+v", info.Outputs)
		}
		initORT(t)
		ids := []int64{1, 2, 3, 4, 5, 6, 7, 8}
		mask := []int64{1, 1, 1, 1, 1, 1, 0, 0}
		idsT, _ := ort.NewTensor(ort.NewShape(2, 4), ids)
		maskT, _ := ort.NewTensor(ort.NewShape(2, 4), mask)
		typeT, _ := ort.NewTensor(ort.NewShape(2, 4), make([]int64, 8))
		order := []string{"input_ids"}
		if bert {
			order = append(order, "attention_mask", "token_type_ids")
		}
		got := runORT(t, p, map[string]ort.Value{"input_ids": idsT, "attention_mask": maskT, "token_type_ids": typeT}, order, []string{"probs"})[0]
		idsT.Destroy()
		maskT.Destroy()
		typeT.Destroy()

		// Reference in Go: (masked) mean of embeddings → linear → softmax.
		r := newRand(1)
		emb, w, bias := r.floats(20*6), r.floats(6*3), r.floats(3)
		var ref []float32
		for n := 0; n < 2; n++ {
			pooled := make([]float64, 6)
			cnt := 0.0
			for s := 0; s < 4; s++ {
				if bert && mask[n*4+s] == 0 {
					continue
				}
				cnt++
				for d := 0; d < 6; d++ {
					pooled[d] += float64(emb[int(ids[n*4+s])*6+d])
				}
			}
			logits := make([]float64, 3)
			sum := 0.0
			for c := 0; c < 3; c++ {
				l := float64(bias[c])
				for d := 0; d < 6; d++ {
					l += pooled[d] / cnt * float64(w[d*3+c])
				}
				logits[c] = math.Exp(l)
				sum += logits[c]
			}
			for c := range logits {
				ref = append(ref, float32(logits[c]/sum))
			}
		}
		if d := maxDiff(got, ref); d > 1e-5 {
			t.Errorf("bert=%v: ORT %v differs from reference %v by %g", bert, got, ref, d)
		}
	}
}

func TestExternalData(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model.onnx")
	if err := TinyMLP(3, 4, 2, 3).WriteFileExternal(p, "model.onnx.data"); err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.ExternalData, []string{"model.onnx.data"}) || info.Parameters != 3*4+4+4*2+2 {
		t.Fatalf("external data %v parameters %d", info.ExternalData, info.Parameters)
	}
	fi, _ := os.Stat(p)
	if fi.Size() > 1024 {
		t.Errorf("model.onnx is %d bytes: weights were not moved out", fi.Size())
	}
	initORT(t)
	x := []float32{1, -2, 0.5, 3, 0, -1}
	xt, _ := ort.NewTensor(ort.NewShape(2, 3), x)
	defer xt.Destroy()
	got := runORT(t, p, map[string]ort.Value{"x": xt}, []string{"x"}, []string{"y"})
	if d := maxDiff(got[0], mlpRef(3, 4, 2, 3, x, 2)); d > 1e-5 {
		t.Errorf("external-data model differs by %g", d)
	}

	// A location that leaves the model's directory is refused.
	b := TinyMLP(3, 4, 2, 3)
	if err := b.WriteFileExternal(p, "../evil.bin"); err == nil {
		t.Error("builder accepted an escaping location")
	}
}

// pyDescribe loads a model with the python onnx package, runs its checker and
// prints what Inspect should find.
const pyDescribe = `
import json, sys, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
onnx.checker.check_model(sys.argv[1])
inits = {i.name for i in m.graph.initializer}
def dims(vi):
    return [d.dim_param if d.HasField("dim_param") else (d.dim_value if d.HasField("dim_value") else "?") for d in vi.type.tensor_type.shape.dim]
def t(vi):
    n = onnx.TensorProto.DataType.Name(vi.type.tensor_type.elem_type).lower()
    return {"name": vi.name, "dtype": {"float": "float32", "double": "float64"}.get(n, n), "shape": dims(vi)}
params = 0
for i in m.graph.initializer:
    n = 1
    for d in i.dims: n *= d
    params += n
print(json.dumps({
  "ir": m.ir_version,
  "opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0],
  "inputs": [t(v) for v in m.graph.input if v.name not in inits],
  "outputs": [t(v) for v in m.graph.output],
  "params": params,
}))
`

type pyInfo struct {
	IR      int              `json:"ir"`
	Opset   int              `json:"opset"`
	Inputs  []schemas.Tensor `json:"inputs"`
	Outputs []schemas.Tensor `json:"outputs"`
	Params  int64            `json:"params"`
}

func describeWithPython(t *testing.T, py, model string) pyInfo {
	t.Helper()
	out, err := exec.Command(py, "-c", pyDescribe, model).CombinedOutput()
	if err != nil {
		t.Fatalf("python onnx rejects %s: %v\n%s", model, err, out)
	}
	var pi pyInfo
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &pi); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return pi
}

func compareWithPython(t *testing.T, py, model string) *Info {
	t.Helper()
	pi := describeWithPython(t, py, model)
	info, err := Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	got := pyInfo{IR: info.IRVersion, Opset: info.Opset, Inputs: info.Inputs, Outputs: info.Outputs, Params: info.Parameters}
	if !reflect.DeepEqual(got, pi) {
		t.Errorf("%s: Inspect says\n%+v\npython onnx says\n%+v", filepath.Base(model), got, pi)
	}
	return info
}

func TestBuilderModelsPassONNXChecker(t *testing.T) {
	py := testutil.FindPython("onnx")
	if py == "" {
		testutil.Missing(t, "a python3 that imports onnx (Debian python3-onnx)")
	}
	dir := t.TempDir()
	models := map[string]*Builder{
		"mlp.onnx":  TinyMLP(4, 8, 2, 1),
		"text.onnx": TinyTextClassifier(TextClassifierOptions{}),
		"bert.onnx": TinyTextClassifier(TextClassifierOptions{BERTInputs: true}),
		"misc.onnx": NewBuilder("misc").Input("a", "float16", 2, "n").Input("s", "bool").
			Node("Cast", []string{"a"}, []string{"b"}, AttrInt("to", TypeFloat)).
			Node("Identity", []string{"s"}, []string{"s2"}).
			Output("b", "float32", 2, "n").Output("s2", "bool").Metadata("k", "v"),
	}
	for name, b := range models {
		p := filepath.Join(dir, name)
		if err := b.WriteFile(p); err != nil {
			t.Fatal(err)
		}
		compareWithPython(t, py, p)
	}
	p := filepath.Join(dir, "ext.onnx")
	if err := TinyMLP(2, 2, 2, 0).WriteFileExternal(p, "data/ext.bin"); err != nil {
		t.Fatal(err)
	}
	compareWithPython(t, py, p)
}

// TestTorchExport checks Inspect against what PyTorch's exporter really writes:
// dynamic axes become named dims, parameters are counted like torch counts them.
func TestTorchExport(t *testing.T) {
	py := testutil.Python(t)
	dir := t.TempDir()
	script := `
import sys, torch
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(50, 8)
        self.lin = torch.nn.Linear(8, 3)
    def forward(self, ids, mask):
        h = self.emb(ids) * mask.unsqueeze(-1).float()
        return self.lin(h.mean(1)), h
m = M().eval()
ids = torch.randint(0, 50, (2, 5)); mask = torch.ones(2, 5, dtype=torch.long)
torch.onnx.export(m, (ids, mask), sys.argv[1], input_names=["input_ids", "attention_mask"],
    output_names=["logits", "hidden"], opset_version=14,
    dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                  "logits": {0: "batch"}, "hidden": {0: "batch", 1: "sequence"}})
print(sum(p.numel() for p in m.parameters()))
`
	p := filepath.Join(dir, "torch.onnx")
	out, err := exec.Command(py, "-c", script, p).CombinedOutput()
	if err != nil {
		t.Fatalf("torch export: %v\n%s", err, out)
	}
	info := compareWithPython(t, py, p)
	want := []schemas.Tensor{tensor("input_ids", "int64", "batch", "sequence"), tensor("attention_mask", "int64", "batch", "sequence")}
	if !reflect.DeepEqual(info.Inputs, want) {
		t.Errorf("inputs %+v", info.Inputs)
	}
	if info.Outputs[0].Shape[0].Name != "batch" || info.Outputs[0].Shape[1].Size != 3 {
		t.Errorf("logits %+v", info.Outputs[0])
	}
	if info.Parameters != 50*8+8*3+3 || !strings.Contains(string(out), "427") {
		t.Errorf("parameters %d (torch printed %s)", info.Parameters, out)
	}
	if info.ProducerName != "pytorch" {
		t.Errorf("producer %q", info.ProducerName)
	}
}

func TestInspectRejectsBadInput(t *testing.T) {
	good, err := TinyMLP(2, 2, 2, 0).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	escaping := NewBuilder("g")
	escaping.Input("x", "float32", 2).InitFloat("w", []int64{2}, []float32{1, 2}).
		Node("Add", []string{"x", "w"}, []string{"y"}).Output("y", "float32", 2)
	esc, _ := escaping.encode("../../etc/passwd", new([]byte))
	for name, data := range map[string][]byte{
		"empty":     {},
		"text":      []byte("this is not a model at all, just text\n"),
		"truncated": good[:len(good)-7],
		"json":      []byte(`{"ir_version": 8}`),
		"escaping":  esc,
	} {
		info, err := InspectReader(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			t.Errorf("%s: accepted as %+v", name, info)
		}
		if name != "escaping" && !errors.Is(err, ErrNotONNX) {
			t.Errorf("%s: error %v is not ErrNotONNX", name, err)
		}
	}
	if _, err := Inspect(filepath.Join(t.TempDir(), "missing.onnx")); err == nil {
		t.Error("missing file accepted")
	}
	// Unknown size reads to EOF.
	info, err := InspectReader(bytes.NewReader(good), -1)
	if err != nil || len(info.Inputs) != 1 {
		t.Errorf("unknown size: %v %+v", err, info)
	}
}

// TestLargeInitializerSkipped checks that Inspect on a file (which seeks over
// weights) and on a plain reader (which reads through them) agree.
func TestLargeInitializerSkipped(t *testing.T) {
	const n = 1 << 20
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(i % 13)
	}
	b := NewBuilder("big").Input("x", "float32", "batch", n).InitFloat("w", []int64{n}, w).
		Node("Mul", []string{"x", "w"}, []string{"y"}).Output("y", "float32", "batch", n)
	p := filepath.Join(t.TempDir(), "big.onnx")
	if err := b.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	fromFile, err := Inspect(p)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	fromReader, err := InspectReader(bytes.NewBuffer(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, fromReader) || fromFile.Parameters != n || len(fromFile.Outputs) != 1 {
		t.Errorf("file %+v\nreader %+v", fromFile, fromReader)
	}
	// Truncated inside the weights: the seeking path notices at the end.
	if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(p); !errors.Is(err, ErrNotONNX) {
		t.Errorf("truncated big model: %v", err)
	}
}

func TestSafeRelPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"a.bin": true, "sub/a.bin": true, "./a": true, "a/../b": true,
		"": false, ".": false, "..": false, "../a": false, "/etc/passwd": false, `..\a`: false, `C:\x`: false, "a/../../b": false,
	} {
		if SafeRelPath(p) != ok {
			t.Errorf("SafeRelPath(%q) = %v", p, !ok)
		}
	}
}

func TestDTypeNames(t *testing.T) {
	for code := int32(1); code <= 16; code++ {
		n := DTypeName(code)
		if c, ok := DTypeCode(n); !ok || c != code {
			t.Errorf("%d → %q → %d", code, n, c)
		}
	}
	if DTypeName(99) != "type(99)" || DTypeName(0) != "undefined" {
		t.Error("unknown codes")
	}
}

func FuzzInspect(f *testing.F) {
	for _, b := range []*Builder{TinyMLP(2, 3, 2, 0), TinyTextClassifier(TextClassifierOptions{BERTInputs: true})} {
		data, _ := b.Bytes()
		f.Add(data)
	}
	ext, _ := TinyMLP(2, 2, 2, 0).encode("w.bin", new([]byte))
	f.Add(ext)
	f.Add([]byte{0x08, 0x08, 0x3a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := InspectReader(bytes.NewReader(data), int64(len(data)))
		if err == nil && info == nil {
			t.Fatal("nil info without error")
		}
		_, _ = InspectReader(bytes.NewReader(data), -1)
	})
}
