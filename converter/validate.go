package converter

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ortgo "github.com/yalue/onnxruntime_go"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/schemas"
)

// sample is validation/sample.json written by convert.py: a sample input and the
// source framework's outputs on it, as raw little-endian files.
type sample struct {
	Reference string         `json:"reference"`
	Inputs    []sampleTensor `json:"inputs"`
	Outputs   []sampleTensor `json:"outputs"`
}

type sampleTensor struct {
	Name  string  `json:"name"`
	DType string  `json:"dtype"`
	Shape []int64 `json:"shape"`
	File  string  `json:"file"`
}

// validate runs the exported model in ONNX Runtime on the script's sample input
// and compares with the framework's outputs.
func validate(model string, info *onnx.Info, vdir string, o Options) (*schemas.Validation, error) {
	b, err := os.ReadFile(filepath.Join(vdir, "sample.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: the converter wrote no validation sample: %v", ErrValidation, err)
	}
	var s sample
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: bad validation sample: %v", ErrValidation, err)
	}
	v, err := compareORT(model, info, vdir, &s, o.Tolerance, o.ORTLibrary)
	if err != nil {
		return nil, err
	}
	if !v.Passed {
		return v, fmt.Errorf("%w: ONNX Runtime's outputs differ from %s's by up to %.3g (tolerance %g); pass --skip-validation to keep the model anyway",
			ErrValidation, s.Reference, v.MaxAbsDiff, v.Tolerance)
	}
	return v, nil
}

func compareORT(model string, info *onnx.Info, vdir string, s *sample, tol float64, lib string) (*schemas.Validation, error) {
	if err := ort.Init(lib); err != nil {
		return nil, fmt.Errorf("%w: it needs ONNX Runtime (%v); pass --skip-validation to convert without checking", ErrValidation, err)
	}
	// Exporters may decorate names (tf2onnx: "input_1:0", "serving_default_input_1:0").
	byName := func(list []sampleTensor, name string) *sampleTensor {
		bare := strings.TrimSuffix(name, ":0")
		for i := range list {
			if list[i].Name == name || strings.TrimSuffix(list[i].Name, ":0") == bare {
				return &list[i]
			}
		}
		for i := range list {
			if l := strings.TrimSuffix(list[i].Name, ":0"); l != "" && strings.HasSuffix(bare, "_"+l) {
				return &list[i]
			}
		}
		return nil
	}
	var inNames []string
	var inputs []ortgo.Value
	defer func() {
		for _, v := range inputs {
			v.Destroy()
		}
	}()
	for _, in := range info.Inputs {
		st := byName(s.Inputs, in.Name)
		if st == nil && len(info.Inputs) == 1 && len(s.Inputs) == 1 {
			st = &s.Inputs[0]
		}
		if st == nil {
			return nil, fmt.Errorf("%w: the model's input %q has no sample value (sample has %s)", ErrValidation, in.Name, names(s.Inputs))
		}
		t, err := inputTensor(vdir, st)
		if err != nil {
			return nil, fmt.Errorf("%w: input %s: %v", ErrValidation, in.Name, err)
		}
		inNames = append(inNames, in.Name)
		inputs = append(inputs, t)
	}
	var outNames []string
	for _, out := range info.Outputs {
		outNames = append(outNames, out.Name)
	}
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrValidation, err)
	}
	defer opts.Destroy()
	_ = opts.SetIntraOpNumThreads(2)
	sess, err := ortgo.NewDynamicAdvancedSession(model, inNames, outNames, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: ONNX Runtime cannot load the exported model: %v", ErrValidation, err)
	}
	defer sess.Destroy()
	outs := make([]ortgo.Value, len(outNames))
	if err := sess.Run(inputs, outs); err != nil {
		return nil, fmt.Errorf("%w: ONNX Runtime cannot run the exported model on the sample: %v", ErrValidation, err)
	}
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	v := &schemas.Validation{Reference: s.Reference, Tolerance: tol}
	compared := 0
	for i, name := range outNames {
		ref := byName(s.Outputs, name)
		if ref == nil && len(s.Outputs) == len(outNames) {
			ref = &s.Outputs[i]
		}
		if ref == nil {
			continue
		}
		want, err := readFloats(filepath.Join(vdir, ref.File), ref.DType, ref.Shape)
		if err != nil {
			return nil, fmt.Errorf("%w: reference %s: %v", ErrValidation, ref.Name, err)
		}
		got, shape, err := valueFloats(outs[i])
		if err != nil {
			return nil, fmt.Errorf("%w: output %s: %v", ErrValidation, name, err)
		}
		if !slices.Equal(shape, ref.Shape) {
			return nil, fmt.Errorf("%w: output %s has shape %v in ONNX Runtime but %v in %s", ErrValidation, name, shape, ref.Shape, s.Reference)
		}
		for k := range got {
			d := math.Abs(got[k] - want[k])
			if math.IsNaN(got[k]) && math.IsNaN(want[k]) {
				d = 0
			} else if math.IsNaN(d) {
				d = math.Inf(1)
			}
			v.MaxAbsDiff = max(v.MaxAbsDiff, d)
		}
		compared++
	}
	if compared == 0 {
		return nil, fmt.Errorf("%w: none of the model's outputs (%s) has a reference value (%s)", ErrValidation, strings.Join(outNames, ", "), names(s.Outputs))
	}
	v.Passed = v.MaxAbsDiff <= tol
	return v, nil
}

func names(ts []sampleTensor) string {
	var n []string
	for _, t := range ts {
		n = append(n, t.Name)
	}
	if len(n) == 0 {
		return "nothing"
	}
	return strings.Join(n, ", ")
}

func elements(shape []int64) (int64, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt32/d) {
			return 0, fmt.Errorf("bad shape %v", shape)
		}
		n *= d
	}
	return n, nil
}

// readRaw reads a sample file, checking its size against dtype and shape.
func readRaw(p, dtype string, shape []int64) ([]byte, int32, error) {
	code, ok := onnx.DTypeCode(dtype)
	if !ok || onnx.DTypeSize(code) == 0 {
		return nil, 0, fmt.Errorf("dtype %q cannot be validated", dtype)
	}
	n, err := elements(shape)
	if err != nil {
		return nil, 0, err
	}
	if !onnx.SafeRelPath(filepath.Base(p)) {
		return nil, 0, fmt.Errorf("bad file name")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, 0, err
	}
	if int64(len(b)) != n*int64(onnx.DTypeSize(code)) {
		return nil, 0, fmt.Errorf("%s holds %d bytes, %s%v needs %d", filepath.Base(p), len(b), dtype, shape, n*int64(onnx.DTypeSize(code)))
	}
	return b, code, nil
}

func inputTensor(vdir string, st *sampleTensor) (ortgo.Value, error) {
	b, code, err := readRaw(filepath.Join(vdir, filepath.Base(st.File)), st.DType, st.Shape)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		if code != onnx.TypeFloat || len(st.Shape) == 0 {
			return nil, fmt.Errorf("empty sample")
		}
		// A zero-length past (a decoder's first step) is a valid float32 input.
		return ortgo.NewTensor(ortgo.NewShape(st.Shape...), []float32{})
	}
	return ortgo.NewCustomDataTensor(ortgo.NewShape(st.Shape...), b, ortgo.TensorElementDataType(code))
}

// readFloats decodes a reference output to float64.
func readFloats(p, dtype string, shape []int64) ([]float64, error) {
	b, code, err := readRaw(p, dtype, shape)
	if err != nil {
		return nil, err
	}
	size := onnx.DTypeSize(code)
	out := make([]float64, len(b)/size)
	le := binary.LittleEndian
	for i := range out {
		c := b[i*size:]
		switch code {
		case onnx.TypeFloat:
			out[i] = float64(math.Float32frombits(le.Uint32(c)))
		case onnx.TypeDouble:
			out[i] = math.Float64frombits(le.Uint64(c))
		case onnx.TypeFloat16:
			out[i] = halfToFloat(le.Uint16(c))
		case onnx.TypeBfloat16:
			out[i] = float64(math.Float32frombits(uint32(le.Uint16(c)) << 16))
		case onnx.TypeInt64:
			out[i] = float64(int64(le.Uint64(c)))
		case onnx.TypeUint64:
			out[i] = float64(le.Uint64(c))
		case onnx.TypeInt32:
			out[i] = float64(int32(le.Uint32(c)))
		case onnx.TypeUint32:
			out[i] = float64(le.Uint32(c))
		case onnx.TypeInt16:
			out[i] = float64(int16(le.Uint16(c)))
		case onnx.TypeUint16:
			out[i] = float64(le.Uint16(c))
		case onnx.TypeInt8:
			out[i] = float64(int8(c[0]))
		case onnx.TypeUint8, onnx.TypeBool:
			out[i] = float64(c[0])
		default:
			return nil, fmt.Errorf("dtype %s cannot be compared", dtype)
		}
	}
	return out, nil
}

func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

func toF64[T float32 | float64 | int64 | int32 | int16 | int8 | uint64 | uint32 | uint16 | uint8](xs []T) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// valueFloats reads an ONNX Runtime output as float64.
func valueFloats(v ortgo.Value) ([]float64, []int64, error) {
	if v == nil {
		return nil, nil, fmt.Errorf("no value")
	}
	shape := []int64(v.GetShape())
	switch t := v.(type) {
	case *ortgo.Tensor[float32]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[float64]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[int64]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[int32]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[int16]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[int8]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[uint64]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[uint32]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[uint16]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[uint8]:
		return toF64(t.GetData()), shape, nil
	case *ortgo.Tensor[bool]:
		d := t.GetData()
		out := make([]float64, len(d))
		for i, x := range d {
			if x {
				out[i] = 1
			}
		}
		return out, shape, nil
	}
	return nil, nil, fmt.Errorf("outputs of type %T cannot be compared", v)
}
