package onnx

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/schemas"
)

// TestPythonONNXModel inspects a model written by the reference implementation
// (python onnx.helper + onnx.save_model with external data) with the corners an
// exporter can produce: string, bfloat16, float16 and int8 tensors, a dimension with
// neither value nor name, an input of unknown rank, a sequence output, an initializer
// that is also listed as a graph input (IR < 4 style), and metadata.
func TestPythonONNXModel(t *testing.T) {
	py := testutil.FindPython("onnx")
	if py == "" {
		testutil.Missing(t, "a python3 that imports onnx (Debian python3-onnx)")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "weights"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np, onnx
from onnx import helper, TensorProto as T, numpy_helper
d = sys.argv[1]
dim_unknown = onnx.TensorShapeProto.Dimension()  # neither dim_value nor dim_param
vi_b = helper.make_tensor_value_info("b", T.BFLOAT16, [2, "n"])
vi_b.type.tensor_type.shape.dim[1].Clear()
u = onnx.ValueInfoProto(); u.name = "u"; u.type.tensor_type.elem_type = T.FLOAT  # no shape: unknown rank
w = numpy_helper.from_array(np.arange(3000, dtype=np.float32).reshape(30, 100), "w")
g = helper.make_graph(
    [helper.make_node("Identity", ["s"], ["s_out"]),
     helper.make_node("Identity", ["b"], ["b_out"]),
     helper.make_node("Cast", ["h"], ["h32"], to=T.FLOAT),
     helper.make_node("Add", ["u", "h32"], ["uh"]),
     helper.make_node("SequenceConstruct", ["q", "q"], ["seq"]),
     helper.make_node("MatMul", ["x", "w"], ["y"])],
    "corners",
    [helper.make_tensor_value_info("s", T.STRING, ["batch"]), vi_b, u,
     helper.make_tensor_value_info("h", T.FLOAT16, [1]),
     helper.make_tensor_value_info("q", T.INT8, [4]),
     helper.make_tensor_value_info("x", T.FLOAT, ["batch", 30]),
     helper.make_tensor_value_info("w", T.FLOAT, [30, 100])],
    [helper.make_tensor_value_info("s_out", T.STRING, ["batch"]),
     helper.make_tensor_value_info("b_out", T.BFLOAT16, None),
     helper.make_tensor_value_info("uh", T.FLOAT, None),
     helper.make_tensor_sequence_value_info("seq", T.INT8, None),
     helper.make_tensor_value_info("y", T.FLOAT, ["batch", 100])],
    [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("com.microsoft", 1)], producer_name="onnx-test")
m.ir_version = 8
helper.set_model_props(m, {"author": "axon"})
# (no checker: onnx 1.12's wants a shape on every graph input; unknown rank is still valid ONNX)
onnx.save_model(m, d + "/model.onnx", save_as_external_data=True, all_tensors_to_one_file=True, location="weights/w.bin", size_threshold=0)
assert onnx.load(d + "/model.onnx").graph.name == "corners"
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("python onnx: %v\n%s", err, out)
	}
	info, err := Inspect(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	unknown := schemas.Dim{Size: -1}
	wantIn := []schemas.Tensor{
		{Name: "s", DType: "string", Shape: []schemas.Dim{{Size: -1, Name: "batch"}}},
		{Name: "b", DType: "bfloat16", Shape: []schemas.Dim{{Size: 2}, unknown}},
		{Name: "u", DType: "float32"},
		{Name: "h", DType: "float16", Shape: []schemas.Dim{{Size: 1}}},
		{Name: "q", DType: "int8", Shape: []schemas.Dim{{Size: 4}}},
		{Name: "x", DType: "float32", Shape: []schemas.Dim{{Size: -1, Name: "batch"}, {Size: 30}}},
	}
	if !reflect.DeepEqual(info.Inputs, wantIn) {
		t.Errorf("inputs\n%+v\nwant\n%+v", info.Inputs, wantIn)
	}
	wantOut := []string{"s_out:string", "b_out:bfloat16", "uh:float32", "seq:sequence", "y:float32"}
	var gotOut []string
	for _, o := range info.Outputs {
		gotOut = append(gotOut, o.Name+":"+o.DType)
	}
	if !reflect.DeepEqual(gotOut, wantOut) {
		t.Errorf("outputs %v, want %v", gotOut, wantOut)
	}
	if info.Parameters != 3000 || info.Initializers != 1 || !reflect.DeepEqual(info.ExternalData, []string{"weights/w.bin"}) {
		t.Errorf("parameters %d initializers %d external %v", info.Parameters, info.Initializers, info.ExternalData)
	}
	if info.Opset != 15 || info.Opsets["com.microsoft"] != 1 || info.IRVersion != 8 || info.ProducerName != "onnx-test" || info.Metadata["author"] != "axon" || info.GraphName != "corners" {
		t.Errorf("header %+v", info)
	}
}
