package onnx

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

// Builder builds small, valid ONNX models in Go, for tests and examples:
//
//	b := onnx.NewBuilder("mlp")
//	b.Input("x", "float32", "batch", 4)
//	b.InitFloat("w", []int64{4, 2}, w)
//	b.Node("MatMul", []string{"x", "w"}, []string{"y"})
//	b.Output("y", "float32", "batch", 2)
//	err := b.WriteFile("model.onnx")
//
// Dimensions are ints (fixed) or strings (symbolic). Errors are collected and
// returned by Bytes / WriteFile.
type Builder struct {
	name            string
	irVersion       int64
	opsets          map[string]int64
	producer        string
	producerVersion string
	inputs          [][]byte
	outputs         [][]byte
	inits           []*initializer
	nodes           [][]byte
	metadata        [][2]string
	err             error
	nodeCount       int
}

type initializer struct {
	name  string
	dims  []int64
	dtype int32
	raw   []byte // little-endian data
	// size and write stream the data instead of raw (InitStream).
	size  int64
	write func(io.Writer) error
}

// header is the initializer's TensorProto without its data: dims (1),
// data_type (2) and name (8).
func (in *initializer) header() []byte {
	var t []byte
	for _, d := range in.dims {
		t = protowire.AppendTag(t, 1, protowire.VarintType)
		t = protowire.AppendVarint(t, uint64(d))
	}
	t = appendVarint(t, 2, uint64(in.dtype))
	return appendString(t, 8, in.name)
}

// appendExternal appends a TensorProto's external_data (13: location, offset,
// length) and data_location EXTERNAL (14).
func appendExternal(t []byte, location string, off, length int64) []byte {
	for _, kv := range [][2]string{{"location", location}, {"offset", fmt.Sprint(off)}, {"length", fmt.Sprint(length)}} {
		e := appendString(nil, 1, kv[0])
		e = appendString(e, 2, kv[1])
		t = appendMsg(t, 13, e)
	}
	return appendVarint(t, 14, 1)
}

// Attr is a node attribute; make one with AttrInt, AttrInts, AttrFloat, AttrFloats or AttrString.
type Attr struct {
	enc []byte
}

// Default versions: IR 8 / opset 17 load in every ONNX Runtime since 1.13 and pass
// the checker of onnx 1.12 (the Debian package the tests use).
const (
	DefaultIRVersion = 8
	DefaultOpset     = 17
)

// NewBuilder starts a model whose graph is called name.
func NewBuilder(name string) *Builder {
	return &Builder{name: name, irVersion: DefaultIRVersion, opsets: map[string]int64{"": DefaultOpset}, producer: "axon"}
}

// Opset sets the version of the default operator set.
func (b *Builder) Opset(v int) *Builder { b.opsets[""] = int64(v); return b }

// OpsetDomain imports another operator set domain (e.g. "com.microsoft").
func (b *Builder) OpsetDomain(domain string, v int) *Builder { b.opsets[domain] = int64(v); return b }

// IRVersion sets the model's IR version.
func (b *Builder) IRVersion(v int) *Builder { b.irVersion = int64(v); return b }

// Metadata adds a metadata_props entry.
func (b *Builder) Metadata(k, v string) *Builder {
	b.metadata = append(b.metadata, [2]string{k, v})
	return b
}

// Input declares a graph input.
func (b *Builder) Input(name, dtype string, dims ...any) *Builder {
	vi, err := valueInfo(name, dtype, dims)
	b.fail(err)
	b.inputs = append(b.inputs, vi)
	return b
}

// Output declares a graph output.
func (b *Builder) Output(name, dtype string, dims ...any) *Builder {
	vi, err := valueInfo(name, dtype, dims)
	b.fail(err)
	b.outputs = append(b.outputs, vi)
	return b
}

// InitFloat adds a float32 initializer with the given dims.
func (b *Builder) InitFloat(name string, dims []int64, data []float32) *Builder {
	raw := make([]byte, 0, 4*len(data))
	for _, v := range data {
		raw = protowire.AppendFixed32(raw, math.Float32bits(v))
	}
	return b.init(name, dims, TypeFloat, raw, len(data))
}

// InitInt64 adds an int64 initializer with the given dims.
func (b *Builder) InitInt64(name string, dims []int64, data []int64) *Builder {
	raw := make([]byte, 0, 8*len(data))
	for _, v := range data {
		raw = protowire.AppendFixed64(raw, uint64(v))
	}
	return b.init(name, dims, TypeInt64, raw, len(data))
}

func (b *Builder) init(name string, dims []int64, dtype int32, raw []byte, n int) *Builder {
	want := int64(1)
	for _, d := range dims {
		want *= d
	}
	if want != int64(n) {
		b.fail(fmt.Errorf("initializer %q: dims %v need %d values, got %d", name, dims, want, n))
	}
	b.inits = append(b.inits, &initializer{name: name, dims: append([]int64(nil), dims...), dtype: dtype, raw: raw})
	return b
}

// Node adds an operator of the default domain.
func (b *Builder) Node(op string, inputs, outputs []string, attrs ...Attr) *Builder {
	return b.NodeDomain("", op, inputs, outputs, attrs...)
}

// NodeDomain adds an operator of the given domain.
func (b *Builder) NodeDomain(domain, op string, inputs, outputs []string, attrs ...Attr) *Builder {
	var n []byte
	for _, in := range inputs {
		n = protowire.AppendTag(n, 1, protowire.BytesType)
		n = protowire.AppendString(n, in)
	}
	for _, out := range outputs {
		n = protowire.AppendTag(n, 2, protowire.BytesType)
		n = protowire.AppendString(n, out)
	}
	b.nodeCount++
	n = appendString(n, 3, fmt.Sprintf("%s_%d", op, b.nodeCount))
	n = appendString(n, 4, op)
	for _, a := range attrs {
		n = protowire.AppendTag(n, 5, protowire.BytesType)
		n = protowire.AppendBytes(n, a.enc)
	}
	if domain != "" {
		n = appendString(n, 7, domain)
	}
	b.nodes = append(b.nodes, n)
	return b
}

// AttributeProto types.
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrFloats = 6
	attrInts   = 7
)

// AttrInt is an integer attribute.
func AttrInt(name string, v int64) Attr {
	a := appendString(nil, 1, name)
	a = protowire.AppendTag(a, 3, protowire.VarintType)
	a = protowire.AppendVarint(a, uint64(v))
	return Attr{enc: appendVarint(a, 20, attrInt)}
}

// AttrInts is an integer list attribute.
func AttrInts(name string, v ...int64) Attr {
	a := appendString(nil, 1, name)
	for _, x := range v {
		a = protowire.AppendTag(a, 8, protowire.VarintType)
		a = protowire.AppendVarint(a, uint64(x))
	}
	return Attr{enc: appendVarint(a, 20, attrInts)}
}

// AttrFloat is a float attribute.
func AttrFloat(name string, v float32) Attr {
	a := appendString(nil, 1, name)
	a = protowire.AppendTag(a, 2, protowire.Fixed32Type)
	a = protowire.AppendFixed32(a, math.Float32bits(v))
	return Attr{enc: appendVarint(a, 20, attrFloat)}
}

// AttrFloats is a float list attribute.
func AttrFloats(name string, v ...float32) Attr {
	a := appendString(nil, 1, name)
	for _, x := range v {
		a = protowire.AppendTag(a, 7, protowire.Fixed32Type)
		a = protowire.AppendFixed32(a, math.Float32bits(x))
	}
	return Attr{enc: appendVarint(a, 20, attrFloats)}
}

// AttrString is a string attribute.
func AttrString(name, v string) Attr {
	a := appendString(nil, 1, name)
	a = appendString(a, 4, v)
	return Attr{enc: appendVarint(a, 20, attrString)}
}

func (b *Builder) fail(err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
}

// Bytes serialises the model with all initializer data inside it.
func (b *Builder) Bytes() ([]byte, error) {
	return b.encode("", nil)
}

// WriteFile writes the model to p.
func (b *Builder) WriteFile(p string) error {
	data, err := b.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// WriteFileExternal writes the model to p with every initializer's data in the
// file dataName (relative to p's directory), as ONNX external data.
func (b *Builder) WriteFileExternal(p, dataName string) error {
	if !SafeRelPath(dataName) {
		return fmt.Errorf("external data name %q must be relative", dataName)
	}
	var data []byte
	model, err := b.encode(dataName, &data)
	if err != nil {
		return err
	}
	dp := filepath.Join(filepath.Dir(p), filepath.FromSlash(dataName))
	if err := os.MkdirAll(filepath.Dir(dp), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dp, data, 0o644); err != nil {
		return err
	}
	return os.WriteFile(p, model, 0o644)
}

func (b *Builder) encode(external string, data *[]byte) ([]byte, error) {
	if b.err != nil {
		return nil, fmt.Errorf("build onnx model: %w", b.err)
	}
	for _, in := range b.inits {
		if in.write != nil {
			return nil, fmt.Errorf("build onnx model: initializer %q is streamed; write the model with WriteModel", in.name)
		}
	}
	var g []byte
	for _, n := range b.nodes {
		g = appendMsg(g, 1, n)
	}
	g = appendString(g, 2, b.name)
	for _, in := range b.inits {
		t := in.header()
		if external == "" {
			t = protowire.AppendTag(t, 9, protowire.BytesType)
			t = protowire.AppendBytes(t, in.raw)
		} else {
			// ORT maps external data with page alignment in mind; keep offsets aligned.
			for len(*data)%64 != 0 {
				*data = append(*data, 0)
			}
			off := len(*data)
			*data = append(*data, in.raw...)
			t = appendExternal(t, external, int64(off), int64(len(in.raw)))
		}
		g = appendMsg(g, 5, t)
	}
	for _, in := range b.inputs {
		g = appendMsg(g, 11, in)
	}
	for _, out := range b.outputs {
		g = appendMsg(g, 12, out)
	}

	m := appendVarint(nil, 1, uint64(b.irVersion))
	m = appendString(m, 2, b.producer)
	if b.producerVersion != "" {
		m = appendString(m, 3, b.producerVersion)
	}
	m = appendMsg(m, 7, g)
	return b.appendModelTail(m), nil
}

// appendModelTail appends the ModelProto fields that follow the graph:
// opset_import (8, sorted by domain) and metadata_props (14).
func (b *Builder) appendModelTail(m []byte) []byte {
	domains := make([]string, 0, len(b.opsets))
	for d := range b.opsets {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	for _, d := range domains {
		o := appendString(nil, 1, d)
		o = appendVarint(o, 2, uint64(b.opsets[d]))
		m = appendMsg(m, 8, o)
	}
	for _, kv := range b.metadata {
		e := appendString(nil, 1, kv[0])
		e = appendString(e, 2, kv[1])
		m = appendMsg(m, 14, e)
	}
	return m
}

func valueInfo(name, dtype string, dims []any) ([]byte, error) {
	code, ok := DTypeCode(dtype)
	if !ok {
		return nil, fmt.Errorf("value %q: unknown dtype %q", name, dtype)
	}
	var shape []byte
	for _, d := range dims {
		var dim []byte
		switch v := d.(type) {
		case int:
			dim = appendVarint(nil, 1, uint64(int64(v)))
		case int64:
			dim = appendVarint(nil, 1, uint64(v))
		case string:
			dim = appendString(nil, 2, v)
		default:
			return nil, fmt.Errorf("value %q: dimension %v is neither an int nor a name", name, d)
		}
		shape = appendMsg(shape, 1, dim)
	}
	tt := appendVarint(nil, 1, uint64(code))
	// Always write the shape, even for a scalar (rank 0 is not "unknown rank").
	tt = protowire.AppendTag(tt, 2, protowire.BytesType)
	tt = protowire.AppendBytes(tt, shape)
	tp := appendMsg(nil, 1, tt)
	vi := appendString(nil, 1, name)
	vi = appendMsg(vi, 2, tp)
	return vi, nil
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendMsg(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

func appendVarint(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}
