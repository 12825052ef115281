package native

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/safetensors"
)

// graph wraps the ONNX builder with the checkpoint: weights are referenced by
// their Hugging Face names and streamed from the safetensors files when the
// model is written.
type graph struct {
	b      *onnx.Builder
	m      *safetensors.Model
	fp16   bool
	n      int
	used   map[string]string
	consts map[string]string
	err    error
	// weightBytes is the size of the checkpoint weights written.
	weightBytes int64
	// ctx stops the writing between tensors.
	ctx context.Context
}

func newGraph(name string, m *safetensors.Model, fp16 bool) *graph {
	return &graph{b: onnx.NewBuilder(name), m: m, fp16: fp16, used: map[string]string{}, consts: map[string]string{}}
}

func (g *graph) fail(err error) {
	if err != nil && g.err == nil {
		g.err = err
	}
}

func (g *graph) tmp(prefix string) string {
	g.n++
	return fmt.Sprintf("/%s_%d", prefix, g.n)
}

// op adds a node with one output and returns it.
func (g *graph) op(op string, ins []string, attrs ...onnx.Attr) string {
	out := g.tmp(op)
	g.b.Node(op, ins, []string{out}, attrs...)
	return out
}

func (g *graph) opOut(op string, out string, ins []string, attrs ...onnx.Attr) string {
	g.b.Node(op, ins, []string{out}, attrs...)
	return out
}

// i64 is a constant int64 tensor (1-D, or a scalar when scalar is set).
func (g *graph) i64(vals ...int64) string { return g.i64c(false, vals...) }

func (g *graph) scalarI64(v int64) string { return g.i64c(true, v) }

func (g *graph) i64c(scalar bool, vals ...int64) string {
	key := fmt.Sprint("i", scalar, vals)
	if n, ok := g.consts[key]; ok {
		return n
	}
	name := g.tmp("const_i64")
	dims := []int64{int64(len(vals))}
	if scalar {
		dims = nil
	}
	g.b.InitInt64(name, dims, vals)
	g.consts[key] = name
	return name
}

// f32 is a constant float32 scalar, or a 1-D tensor when several values are given.
func (g *graph) f32(vals ...float32) string {
	key := fmt.Sprint("f", vals)
	if n, ok := g.consts[key]; ok {
		return n
	}
	name := g.tmp("const_f32")
	var dims []int64
	if len(vals) != 1 {
		dims = []int64{int64(len(vals))}
	}
	g.b.InitFloat(name, dims, vals)
	g.consts[key] = name
	return name
}

func (g *graph) has(name string) bool { return g.m.Tensor(name) != nil }

// weight is the checkpoint tensor name as a float32 value, transposed for a
// MatMul when transpose is set (Linear weights are [out, in]). The data is
// written as stored (a streaming copy, or a chunked conversion for BF16 or
// --dtype fp16); the transpose is a Transpose node that ONNX Runtime folds
// once when it loads the model, so the converter never holds a whole tensor.
// With fp16 the initializer keeps half precision and a Cast feeds the
// float32 graph.
func (g *graph) weight(name string, transpose bool) string {
	key := fmt.Sprint(name, transpose)
	if v, ok := g.used[key]; ok {
		return v
	}
	if transpose {
		w := g.weight(name, false)
		if t := g.m.Tensor(name); t != nil && len(t.Shape) != 2 {
			g.fail(fmt.Errorf("native converter: tensor %s has shape %v, want a matrix", name, t.Shape))
		}
		v := g.opOut("Transpose", name+".T", []string{w}, onnx.AttrInts("perm", 1, 0))
		g.used[key] = v
		return v
	}
	t := g.m.Tensor(name)
	if t == nil {
		// Checkpoints converted from the original TensorFlow BERT name LayerNorm
		// parameters gamma and beta; transformers renames them when loading.
		if alt, ok := strings.CutSuffix(name, "LayerNorm.weight"); ok {
			t = g.m.Tensor(alt + "LayerNorm.gamma")
		} else if alt, ok := strings.CutSuffix(name, "LayerNorm.bias"); ok {
			t = g.m.Tensor(alt + "LayerNorm.beta")
		}
	}
	if t == nil {
		g.fail(fmt.Errorf("native converter: the checkpoint has no tensor %s (does config.json describe this checkpoint?)", name))
		return name
	}
	switch t.DType {
	case "F32", "F16", "BF16":
	default:
		g.fail(unsupported("tensor %s has dtype %s (quantized or integer weights)", name, t.DType))
		return name
	}
	outType := int32(onnx.TypeFloat)
	if g.fp16 {
		outType = onnx.TypeFloat16
	}
	size := t.Elements() * int64(onnx.DTypeSize(outType))
	g.weightBytes += size
	name = t.Name
	g.b.InitStream(name, t.Shape, outType, size, func(w io.Writer) error {
		if g.ctx != nil && g.ctx.Err() != nil {
			return g.ctx.Err()
		}
		return writeTensor(w, t, outType)
	})
	v := name
	if g.fp16 {
		v = g.opOut("Cast", name+".f32", []string{name}, onnx.AttrInt("to", onnx.TypeFloat))
	}
	g.used[key] = v
	return v
}

// chunk is how many elements a converting writer handles at a time.
const chunk = 1 << 18

// writeTensor streams t converted to outType: a plain copy when the dtypes
// match, else chunk by chunk, so memory stays a few megabytes whatever the tensor.
func writeTensor(w io.Writer, t *safetensors.Tensor, outType int32) error {
	r := t.Reader()
	if (t.DType == "F32" && outType == onnx.TypeFloat) || (t.DType == "F16" && outType == onnx.TypeFloat16) {
		_, err := io.Copy(w, r)
		return err
	}
	in := safetensors.DTypeSize(t.DType)
	es := int64(onnx.DTypeSize(outType))
	src := make([]byte, chunk*in)
	vals := make([]float32, chunk)
	dst := make([]byte, chunk*es)
	for left := t.Elements(); left > 0; {
		n := min(left, chunk)
		if _, err := io.ReadFull(r, src[:n*in]); err != nil {
			return err
		}
		if err := safetensors.DecodeFloat32(t.DType, src[:n*in], vals[:n]); err != nil {
			return err
		}
		if outType == onnx.TypeFloat16 {
			for i, v := range vals[:n] {
				binary.LittleEndian.PutUint16(dst[2*i:], safetensors.Float32ToFloat16(v))
			}
		} else {
			for i, v := range vals[:n] {
				binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
			}
		}
		if _, err := w.Write(dst[:n*es]); err != nil {
			return err
		}
		left -= n
	}
	return nil
}

// linear is x·Wᵀ (+ b) for a torch Linear named prefix (prefix.weight, prefix.bias).
func (g *graph) linear(x, prefix string, bias bool) string {
	y := g.op("MatMul", []string{x, g.weight(prefix+".weight", true)})
	if bias {
		y = g.op("Add", []string{y, g.weight(prefix+".bias", false)})
	}
	return y
}

// linearAuto adds the bias when the checkpoint has one.
func (g *graph) linearAuto(x, prefix string) string {
	return g.linear(x, prefix, g.has(prefix+".bias"))
}

// conv1d is GPT-2's Conv1D: x·W + b with W stored [in, out].
func (g *graph) conv1d(x, prefix string) string {
	y := g.op("MatMul", []string{x, g.weight(prefix+".weight", false)})
	return g.op("Add", []string{y, g.weight(prefix+".bias", false)})
}

func (g *graph) layerNorm(x, weight, bias string, eps float64) string {
	return g.op("LayerNormalization", []string{x, g.weight(weight, false), g.weight(bias, false)},
		onnx.AttrInt("axis", -1), onnx.AttrFloat("epsilon", float32(eps)))
}

// rmsNorm is x / sqrt(mean(x²) + eps) · w in the pattern ORT fuses into
// SimplifiedLayerNormalization.
func (g *graph) rmsNorm(x, weight string, eps float64) string {
	sq := g.op("Pow", []string{x, g.f32(2)})
	mean := g.op("ReduceMean", []string{sq}, onnx.AttrInts("axes", -1), onnx.AttrInt("keepdims", 1))
	std := g.op("Sqrt", []string{g.op("Add", []string{mean, g.f32(float32(eps))})})
	return g.op("Mul", []string{g.op("Div", []string{x, std}), g.weight(weight, false)})
}

var activations = map[string]bool{"gelu": true, "gelu_new": true, "gelu_pytorch_tanh": true, "gelu_fast": true, "relu": true, "silu": true, "swish": true, "quick_gelu": true}

func (g *graph) act(kind, x string) string {
	switch kind {
	case "gelu":
		// 0.5·x·(1 + erf(x/√2)), the exact form ORT fuses into Gelu.
		e := g.op("Erf", []string{g.op("Div", []string{x, g.f32(float32(math.Sqrt2))})})
		return g.op("Mul", []string{g.op("Mul", []string{x, g.op("Add", []string{e, g.f32(1)})}), g.f32(0.5)})
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), ORT's FastGelu pattern.
		x3 := g.op("Pow", []string{x, g.f32(3)})
		in := g.op("Add", []string{x, g.op("Mul", []string{x3, g.f32(0.044715)})})
		th := g.op("Tanh", []string{g.op("Mul", []string{in, g.f32(float32(math.Sqrt(2 / math.Pi)))})})
		return g.op("Mul", []string{g.op("Mul", []string{x, g.f32(0.5)}), g.op("Add", []string{th, g.f32(1)})})
	case "relu":
		return g.op("Relu", []string{x})
	case "quick_gelu":
		return g.op("Mul", []string{x, g.op("Sigmoid", []string{g.op("Mul", []string{x, g.f32(1.702)})})})
	}
	return g.op("Mul", []string{x, g.op("Sigmoid", []string{x})})
}

// dim is input's dimension i as a 1-element int64 tensor.
func (g *graph) dim(x string, i int64) string {
	return g.op("Gather", []string{g.op("Shape", []string{x}), g.i64(i)}, onnx.AttrInt("axis", 0))
}

// scalarDim is input's dimension i as an int64 scalar.
func (g *graph) scalarDim(x string, i int64) string {
	return g.op("Gather", []string{g.op("Shape", []string{x}), g.scalarI64(i)}, onnx.AttrInt("axis", 0))
}

// heads splits [b, s, n·d] into [b, n, s, d].
func (g *graph) heads(x string, n, d int) string {
	r := g.op("Reshape", []string{x, g.i64(0, 0, int64(n), int64(d))})
	return g.op("Transpose", []string{r}, onnx.AttrInts("perm", 0, 2, 1, 3))
}

// merge joins [b, n, s, d] into [b, s, n·d].
func (g *graph) merge(x string, n, d int) string {
	t := g.op("Transpose", []string{x}, onnx.AttrInts("perm", 0, 2, 1, 3))
	return g.op("Reshape", []string{t, g.i64(0, 0, int64(n*d))})
}

// minFloat is torch.finfo(float32).min, the value transformers masks with.
const minFloat = -math.MaxFloat32
