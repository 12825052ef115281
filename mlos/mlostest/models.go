package mlostest

import (
	"testing"

	"github.com/mlos-foundation/axon/internal/onnx"
)

// Affine weights: y = Relu(x·W + B) with x float32 [batch,3], y float32 [batch,2].
// Simple enough that tests compute the reference by hand (AffineRef).
var (
	AffineW = []float32{1, -1, 0.5, 2, -2, 0.25} // [3,2] row-major
	AffineB = []float32{0.1, -0.2}
)

// AffineModel is the graph above.
func AffineModel(t testing.TB) []byte {
	t.Helper()
	b := onnx.NewBuilder("affine")
	b.Input("x", "float32", "batch", 3)
	b.InitFloat("w", []int64{3, 2}, AffineW)
	b.InitFloat("b", []int64{2}, AffineB)
	b.Node("MatMul", []string{"x", "w"}, []string{"xw"})
	b.Node("Add", []string{"xw", "b"}, []string{"pre"})
	b.Node("Relu", []string{"pre"}, []string{"y"})
	b.Output("y", "float32", "batch", 2)
	return bytesOf(t, b)
}

// AffineRef computes the reference for one row of x.
func AffineRef(x [3]float32) [2]float32 {
	var y [2]float32
	for j := 0; j < 2; j++ {
		s := AffineB[j]
		for i := 0; i < 3; i++ {
			s += x[i] * AffineW[i*2+j]
		}
		if s < 0 {
			s = 0
		}
		y[j] = s
	}
	return y
}

// HalfModel doubles a float16 tensor: h float16 [batch,2] → Cast → ×2 → Cast → out float16 [batch,2].
func HalfModel(t testing.TB) []byte {
	t.Helper()
	return doubler(t, "float16", onnx.TypeFloat16)
}

// BFloat16Model is HalfModel in bfloat16.
func BFloat16Model(t testing.TB) []byte {
	t.Helper()
	return doubler(t, "bfloat16", onnx.TypeBfloat16)
}

func doubler(t testing.TB, dtype string, code int64) []byte {
	b := onnx.NewBuilder("half")
	b.Input("h", dtype, "batch", 2)
	b.InitFloat("two", []int64{1}, []float32{2})
	b.Node("Cast", []string{"h"}, []string{"hf"}, onnx.AttrInt("to", onnx.TypeFloat))
	b.Node("Mul", []string{"hf", "two"}, []string{"doubled"})
	b.Node("Cast", []string{"doubled"}, []string{"out"}, onnx.AttrInt("to", code))
	b.Output("out", dtype, "batch", 2)
	return bytesOf(t, b)
}

// StringModel echoes strings: s string [batch] → Identity → echo string [batch].
func StringModel(t testing.TB) []byte {
	t.Helper()
	b := onnx.NewBuilder("strings")
	b.Input("s", "string", "batch")
	b.Node("Identity", []string{"s"}, []string{"echo"})
	b.Output("echo", "string", "batch")
	return bytesOf(t, b)
}

// MLP is a dynamic-batch MLP for benchmarks: x float32 [batch,in] → y float32 [batch,out].
func MLP(t testing.TB, in, hidden, out int) []byte {
	t.Helper()
	return bytesOf(t, onnx.TinyMLP(in, hidden, out, 7))
}

func bytesOf(t testing.TB, b *onnx.Builder) []byte {
	t.Helper()
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// EveryDType lists the manifest dtypes of the v2 protocol's datatypes, with
// the v2 name of each; IdentityModel has one input and output per entry.
var EveryDType = [][2]string{
	{"bool", "BOOL"}, {"uint8", "UINT8"}, {"uint16", "UINT16"}, {"uint32", "UINT32"}, {"uint64", "UINT64"},
	{"int8", "INT8"}, {"int16", "INT16"}, {"int32", "INT32"}, {"int64", "INT64"},
	{"float16", "FP16"}, {"bfloat16", "BF16"}, {"float32", "FP32"}, {"float64", "FP64"}, {"string", "BYTES"},
}

// IdentityModel echoes one tensor of every dtype: in_<V2> [batch,2] → Identity → out_<V2> [batch,2].
func IdentityModel(t testing.TB) []byte {
	t.Helper()
	b := onnx.NewBuilder("identity")
	for _, d := range EveryDType {
		b.Input("in_"+d[1], d[0], "batch", 2)
		b.Node("Identity", []string{"in_" + d[1]}, []string{"out_" + d[1]})
		b.Output("out_"+d[1], d[0], "batch", 2)
	}
	return bytesOf(t, b)
}
