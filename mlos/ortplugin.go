package mlos

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/mlos-foundation/axon/internal/ort"
	"github.com/mlos-foundation/axon/schemas"
	ortgo "github.com/yalue/onnxruntime_go"
)

func init() { RegisterPlugin(ORTPlugin{}) }

// ORTPlugin is the built-in execution plugin: ONNX Runtime through onnxruntime_go.
// ort.Init must have succeeded before Load is called.
type ORTPlugin struct{}

func (ORTPlugin) Name() string      { return "onnxruntime" }
func (ORTPlugin) Formats() []string { return []string{"onnx"} }

type ortBackend struct {
	session *ortgo.DynamicAdvancedSession
	inputs  []TensorSpec
	outputs []TensorSpec
	// outDims maps, for each output, every dimension to an input dimension of
	// the same symbolic name, so outputs can be allocated up front when needed.
	outDims [][]dimRef
}

type dimRef struct{ input, dim int }

func (ORTPlugin) Load(ctx context.Context, req LoadRequest) (Backend, error) {
	if !ortgo.IsInitialized() {
		if err := ort.Init(""); err != nil {
			return nil, err
		}
	}
	opts, err := SessionOptions(req.Threads)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	// The I/O metadata is computed once here, never per request.
	ins, outs, err := ortgo.GetInputOutputInfoWithOptions(req.ModelPath, opts)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", req.ModelPath, err)
	}
	b := &ortBackend{}
	var inNames, outNames []string
	for _, in := range ins {
		spec, err := specFromORT(in)
		if err != nil {
			return nil, fmt.Errorf("input %s: %w", in.Name, err)
		}
		b.inputs = append(b.inputs, spec)
		inNames = append(inNames, in.Name)
	}
	for _, o := range outs {
		spec, err := specFromORT(o)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", o.Name, err)
		}
		b.outputs = append(b.outputs, spec)
		outNames = append(outNames, o.Name)
	}
	if m := req.Manifest; m != nil {
		nameDims(b.inputs, m.IO.Inputs)
		nameDims(b.outputs, m.IO.Outputs)
	}
	b.outDims = make([][]dimRef, len(b.outputs))
	for i, o := range b.outputs {
		b.outDims[i] = resolveDims(o, b.inputs)
	}
	b.session, err = ortgo.NewDynamicAdvancedSession(req.ModelPath, inNames, outNames, opts)
	if err != nil {
		return nil, fmt.Errorf("create session for %s: %w", req.ModelPath, err)
	}
	return b, nil
}

// SessionOptions are the ONNX Runtime session options every model is loaded
// with (the caller destroys them). The benchmarks' raw onnxruntime_go peers
// use them too, so that they run ONNX Runtime exactly as mlosd does.
func SessionOptions(t Threads) (*ortgo.SessionOptions, error) {
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if err := setSessionOptions(opts, t); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("session options: %w", err)
	}
	return opts, nil
}

func setSessionOptions(opts *ortgo.SessionOptions, t Threads) error {
	if t.IntraOp > 0 {
		if err := opts.SetIntraOpNumThreads(t.IntraOp); err != nil {
			return err
		}
	}
	if t.InterOp > 0 {
		if err := opts.SetInterOpNumThreads(t.InterOp); err != nil {
			return err
		}
	}
	if !t.Spin {
		if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			return err
		}
	}
	return nil
}

// nameDims copies symbolic dimension names from the manifest, which reads
// them from the graph; the ONNX Runtime API reports only -1.
func nameDims(specs []TensorSpec, io []schemas.Tensor) {
	for i := range specs {
		for _, t := range io {
			if t.Name != specs[i].Name || len(t.Shape) != len(specs[i].Shape) {
				continue
			}
			specs[i].DimNames = make([]string, len(t.Shape))
			for d, dim := range t.Shape {
				if specs[i].Shape[d] < 0 {
					specs[i].DimNames[d] = dim.Name
				}
			}
		}
	}
}

func resolveDims(o TensorSpec, inputs []TensorSpec) []dimRef {
	refs := make([]dimRef, len(o.Shape))
	for d, size := range o.Shape {
		refs[d] = dimRef{-1, -1}
		if size >= 0 || d >= len(o.DimNames) || o.DimNames[d] == "" {
			continue
		}
	search:
		for ii, in := range inputs {
			for id, name := range in.DimNames {
				if name == o.DimNames[d] {
					refs[d] = dimRef{ii, id}
					break search
				}
			}
		}
	}
	return refs
}

func specFromORT(info ortgo.InputOutputInfo) (TensorSpec, error) {
	if info.OrtValueType != ortgo.ONNXTypeTensor {
		return TensorSpec{}, fmt.Errorf("%s values are not supported, only tensors", info.OrtValueType)
	}
	dt, ok := dtypeFromORT(info.DataType)
	if !ok {
		return TensorSpec{}, fmt.Errorf("element type %s is not supported", info.DataType)
	}
	shape := make([]int64, len(info.Dimensions))
	for i, d := range info.Dimensions {
		if d < 0 {
			d = -1
		}
		shape[i] = d
	}
	return TensorSpec{Name: info.Name, DType: dt, Shape: shape}, nil
}

func dtypeFromORT(t ortgo.TensorElementDataType) (DType, bool) {
	switch t {
	case ortgo.TensorElementDataTypeFloat:
		return Float32, true
	case ortgo.TensorElementDataTypeDouble:
		return Float64, true
	case ortgo.TensorElementDataTypeFloat16:
		return Float16, true
	case ortgo.TensorElementDataTypeBFloat16:
		return BFloat16, true
	case ortgo.TensorElementDataTypeInt8:
		return Int8, true
	case ortgo.TensorElementDataTypeInt16:
		return Int16, true
	case ortgo.TensorElementDataTypeInt32:
		return Int32, true
	case ortgo.TensorElementDataTypeInt64:
		return Int64, true
	case ortgo.TensorElementDataTypeUint8:
		return Uint8, true
	case ortgo.TensorElementDataTypeUint16:
		return Uint16, true
	case ortgo.TensorElementDataTypeUint32:
		return Uint32, true
	case ortgo.TensorElementDataTypeUint64:
		return Uint64, true
	case ortgo.TensorElementDataTypeBool:
		return Bool, true
	case ortgo.TensorElementDataTypeString:
		return String, true
	}
	return "", false
}

func (b *ortBackend) Inputs() []TensorSpec  { return b.inputs }
func (b *ortBackend) Outputs() []TensorSpec { return b.outputs }
func (b *ortBackend) Close() error          { return b.session.Destroy() }

func (b *ortBackend) Run(ctx context.Context, inputs []*Tensor) ([]*Tensor, error) {
	outs, _, err := b.RunPhased(ctx, inputs)
	return outs, err
}

func (b *ortBackend) RunPhased(ctx context.Context, inputs []*Tensor) ([]*Tensor, Phases, error) {
	var ph Phases
	start := time.Now()
	if len(inputs) != len(b.inputs) {
		return nil, ph, fmt.Errorf("%d inputs, the model takes %d", len(inputs), len(b.inputs))
	}
	ins := make([]ortgo.Value, len(inputs))
	defer func() {
		for _, v := range ins {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, t := range inputs {
		v, err := toORT(t)
		if err != nil {
			return nil, ph, fmt.Errorf("input %s: %w", b.inputs[i].Name, err)
		}
		ins[i] = v
	}
	outs := make([]ortgo.Value, len(b.outputs))
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, o := range b.outputs {
		// onnxruntime_go copies float16/bfloat16 outputs it allocates itself
		// with one byte per element; allocating them here avoids that.
		if o.DType != Float16 && o.DType != BFloat16 {
			continue
		}
		shape, ok := b.outputShape(i, inputs)
		if !ok {
			return nil, ph, fmt.Errorf("output %s: %s outputs need a shape known before the run; %s is not", o.Name, o.DType, o.ShapeString())
		}
		n := NumElements(shape)
		if n == 0 {
			continue
		}
		v, err := ortgo.NewCustomDataTensor(ortgo.Shape(shape), make([]byte, n*2), ortType(o.DType))
		if err != nil {
			return nil, ph, fmt.Errorf("output %s: %w", o.Name, err)
		}
		outs[i] = v
	}
	run := time.Now()
	ph.Input = run.Sub(start)
	if err := b.session.Run(ins, outs); err != nil {
		return nil, ph, err
	}
	collect := time.Now()
	ph.Infer = collect.Sub(run)
	res := make([]*Tensor, len(outs))
	for i, v := range outs {
		t, err := fromORT(v, b.outputs[i])
		if err != nil {
			return nil, ph, fmt.Errorf("output %s: %w", b.outputs[i].Name, err)
		}
		res[i] = t
	}
	ph.Output = time.Since(collect)
	return res, ph, nil
}

func (b *ortBackend) outputShape(i int, inputs []*Tensor) ([]int64, bool) {
	o := b.outputs[i]
	shape := make([]int64, len(o.Shape))
	for d, size := range o.Shape {
		if size >= 0 {
			shape[d] = size
			continue
		}
		r := b.outDims[i][d]
		if r.input < 0 || r.dim >= len(inputs[r.input].Shape) {
			return nil, false
		}
		shape[d] = inputs[r.input].Shape[r.dim]
	}
	return shape, true
}

func ortType(d DType) ortgo.TensorElementDataType {
	switch d {
	case Float16:
		return ortgo.TensorElementDataTypeFloat16
	case BFloat16:
		return ortgo.TensorElementDataTypeBFloat16
	}
	return ortgo.TensorElementDataTypeUndefined
}

func toORT(t *Tensor) (ortgo.Value, error) {
	shape := ortgo.Shape(t.Shape)
	if len(shape) == 0 {
		return scalarToORT(t)
	}
	switch d := t.Data.(type) {
	case []bool:
		return ortgo.NewTensor(shape, d)
	case []uint8:
		return ortgo.NewTensor(shape, d)
	case []uint16:
		if t.DType == Float16 || t.DType == BFloat16 {
			if len(d) == 0 {
				return ortgo.NewTensor(shape, d)
			}
			b := unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), len(d)*2)
			return ortgo.NewCustomDataTensor(shape, b, ortType(t.DType))
		}
		return ortgo.NewTensor(shape, d)
	case []uint32:
		return ortgo.NewTensor(shape, d)
	case []uint64:
		return ortgo.NewTensor(shape, d)
	case []int8:
		return ortgo.NewTensor(shape, d)
	case []int16:
		return ortgo.NewTensor(shape, d)
	case []int32:
		return ortgo.NewTensor(shape, d)
	case []int64:
		return ortgo.NewTensor(shape, d)
	case []float32:
		return ortgo.NewTensor(shape, d)
	case []float64:
		return ortgo.NewTensor(shape, d)
	case []string:
		st, err := ortgo.NewStringTensor(shape)
		if err != nil {
			return nil, err
		}
		if err := st.SetContents(d); err != nil {
			st.Destroy()
			return nil, err
		}
		return st, nil
	}
	return nil, fmt.Errorf("unsupported data %T", t.Data)
}

func scalarToORT(t *Tensor) (ortgo.Value, error) {
	switch d := t.Data.(type) {
	case []bool:
		return ortgo.NewScalar(d[0])
	case []uint8:
		return ortgo.NewScalar(d[0])
	case []uint32:
		return ortgo.NewScalar(d[0])
	case []uint64:
		return ortgo.NewScalar(d[0])
	case []int8:
		return ortgo.NewScalar(d[0])
	case []int16:
		return ortgo.NewScalar(d[0])
	case []int32:
		return ortgo.NewScalar(d[0])
	case []int64:
		return ortgo.NewScalar(d[0])
	case []float32:
		return ortgo.NewScalar(d[0])
	case []float64:
		return ortgo.NewScalar(d[0])
	}
	return nil, fmt.Errorf("scalar %s inputs are not supported", t.DType)
}

func fromORT(v ortgo.Value, spec TensorSpec) (*Tensor, error) {
	if v == nil {
		return nil, fmt.Errorf("no value")
	}
	shape := []int64(v.GetShape())
	t := &Tensor{Name: spec.Name, DType: spec.DType, Shape: append([]int64(nil), shape...)}
	switch x := v.(type) {
	case *ortgo.Tensor[bool]:
		t.Data = x.GetData()
	case *ortgo.Tensor[uint8]:
		t.Data = x.GetData()
	case *ortgo.Tensor[uint16]:
		t.Data = x.GetData()
	case *ortgo.Tensor[uint32]:
		t.Data = x.GetData()
	case *ortgo.Tensor[uint64]:
		t.Data = x.GetData()
	case *ortgo.Tensor[int8]:
		t.Data = x.GetData()
	case *ortgo.Tensor[int16]:
		t.Data = x.GetData()
	case *ortgo.Tensor[int32]:
		t.Data = x.GetData()
	case *ortgo.Tensor[int64]:
		t.Data = x.GetData()
	case *ortgo.Tensor[float32]:
		t.Data = x.GetData()
	case *ortgo.Tensor[float64]:
		t.Data = x.GetData()
	case *ortgo.StringTensor:
		s, err := x.GetContents()
		if err != nil {
			return nil, err
		}
		t.Data = s
	case *ortgo.CustomDataTensor:
		n := NumElements(shape)
		data, err := FromBytes(spec.DType, int(n), x.GetData())
		if err != nil {
			return nil, err
		}
		t.Data = data
	case *ortgo.Scalar[float32]:
		t.Data = []float32{x.GetData()}
	case *ortgo.Scalar[int64]:
		t.Data = []int64{x.GetData()}
	default:
		return nil, fmt.Errorf("unsupported output value %T", v)
	}
	// Go-backed tensors keep their slice after Destroy; copy-free.
	if t.Len() != int(NumElements(shape)) {
		return nil, fmt.Errorf("%d elements for shape %v", t.Len(), shape)
	}
	return t, nil
}
