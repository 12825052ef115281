package mlos

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/mlos-foundation/axon/internal/safetensors"
)

// DType is an element type, named as in manifest.yaml (ONNX types in lower case).
type DType string

const (
	Bool     DType = "bool"
	Uint8    DType = "uint8"
	Uint16   DType = "uint16"
	Uint32   DType = "uint32"
	Uint64   DType = "uint64"
	Int8     DType = "int8"
	Int16    DType = "int16"
	Int32    DType = "int32"
	Int64    DType = "int64"
	Float16  DType = "float16"
	BFloat16 DType = "bfloat16"
	Float32  DType = "float32"
	Float64  DType = "float64"
	String   DType = "string"
)

// ParseDType accepts manifest names, ONNX names (float, double) and KServe v2
// names (FP32, BYTES...).
func ParseDType(s string) (DType, bool) {
	switch strings.ToLower(s) {
	case "bool":
		return Bool, true
	case "uint8":
		return Uint8, true
	case "uint16":
		return Uint16, true
	case "uint32":
		return Uint32, true
	case "uint64":
		return Uint64, true
	case "int8":
		return Int8, true
	case "int16":
		return Int16, true
	case "int32":
		return Int32, true
	case "int64":
		return Int64, true
	case "float16", "fp16", "half":
		return Float16, true
	case "bfloat16", "bf16":
		return BFloat16, true
	case "float32", "float", "fp32":
		return Float32, true
	case "float64", "double", "fp64":
		return Float64, true
	case "string", "bytes":
		return String, true
	}
	return "", false
}

// V2 is the KServe Open Inference Protocol name of the type.
func (d DType) V2() string {
	switch d {
	case Float16:
		return "FP16"
	case BFloat16:
		return "BF16"
	case Float32:
		return "FP32"
	case Float64:
		return "FP64"
	case String:
		return "BYTES"
	}
	return strings.ToUpper(string(d))
}

// Size is the byte size of one element (0 for strings).
func (d DType) Size() int {
	switch d {
	case Bool, Uint8, Int8:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Uint32, Int32, Float32:
		return 4
	case Uint64, Int64, Float64:
		return 8
	}
	return 0
}

// Tensor is a dense tensor. Data is a typed slice: []bool, []uint8, []uint16,
// []uint32, []uint64, []int8, []int16, []int32, []int64, []float32, []float64,
// []string; float16 and bfloat16 keep their raw bits in []uint16.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	Data  any
}

// NumElements is the product of the shape.
func NumElements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements held in Data.
func (t *Tensor) Len() int {
	switch d := t.Data.(type) {
	case []bool:
		return len(d)
	case []uint8:
		return len(d)
	case []uint16:
		return len(d)
	case []uint32:
		return len(d)
	case []uint64:
		return len(d)
	case []int8:
		return len(d)
	case []int16:
		return len(d)
	case []int32:
		return len(d)
	case []int64:
		return len(d)
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []string:
		return len(d)
	}
	return 0
}

// MakeData allocates a zeroed data slice of n elements of type d.
func MakeData(d DType, n int) any {
	switch d {
	case Bool:
		return make([]bool, n)
	case Uint8:
		return make([]uint8, n)
	case Uint16, Float16, BFloat16:
		return make([]uint16, n)
	case Uint32:
		return make([]uint32, n)
	case Uint64:
		return make([]uint64, n)
	case Int8:
		return make([]int8, n)
	case Int16:
		return make([]int16, n)
	case Int32:
		return make([]int32, n)
	case Int64:
		return make([]int64, n)
	case Float32:
		return make([]float32, n)
	case Float64:
		return make([]float64, n)
	case String:
		return make([]string, n)
	}
	return nil
}

// SetFloat stores v at index i, converting to the tensor's type. It reports
// false when v does not fit the type (a fraction in an integer tensor, out of range).
func setNumber(data any, dt DType, i int, v float64) bool {
	isInt := v == math.Trunc(v) && !math.IsInf(v, 0)
	switch d := data.(type) {
	case []bool:
		if v != 0 && v != 1 {
			return false
		}
		d[i] = v == 1
	case []uint8:
		if !isInt || v < 0 || v > math.MaxUint8 {
			return false
		}
		d[i] = uint8(v)
	case []uint16:
		switch dt {
		case Float16:
			d[i] = Float32ToFloat16(float32(v))
		case BFloat16:
			d[i] = Float32ToBFloat16(float32(v))
		default:
			if !isInt || v < 0 || v > math.MaxUint16 {
				return false
			}
			d[i] = uint16(v)
		}
	case []uint32:
		if !isInt || v < 0 || v > math.MaxUint32 {
			return false
		}
		d[i] = uint32(v)
	case []uint64:
		if !isInt || v < 0 || v >= 1<<64 {
			return false
		}
		d[i] = uint64(v)
	case []int8:
		if !isInt || v < math.MinInt8 || v > math.MaxInt8 {
			return false
		}
		d[i] = int8(v)
	case []int16:
		if !isInt || v < math.MinInt16 || v > math.MaxInt16 {
			return false
		}
		d[i] = int16(v)
	case []int32:
		if !isInt || v < math.MinInt32 || v > math.MaxInt32 {
			return false
		}
		d[i] = int32(v)
	case []int64:
		if !isInt || v < -(1<<63) || v >= 1<<63 {
			return false
		}
		d[i] = int64(v)
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = v
	default:
		return false
	}
	return true
}

// Float64s converts numeric data to float64 (float16/bfloat16 decoded).
func (t *Tensor) Float64s() []float64 {
	n := t.Len()
	out := make([]float64, n)
	switch d := t.Data.(type) {
	case []bool:
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
	case []uint8:
		widen(out, d)
	case []uint16:
		for i, v := range d {
			switch t.DType {
			case Float16:
				out[i] = float64(Float16ToFloat32(v))
			case BFloat16:
				out[i] = float64(BFloat16ToFloat32(v))
			default:
				out[i] = float64(v)
			}
		}
	case []uint32:
		widen(out, d)
	case []uint64:
		widen(out, d)
	case []int8:
		widen(out, d)
	case []int16:
		widen(out, d)
	case []int32:
		widen(out, d)
	case []int64:
		widen(out, d)
	case []float32:
		widen(out, d)
	case []float64:
		copy(out, d)
	}
	return out
}

// widen converts s to float64 into out.
func widen[T uint8 | uint32 | uint64 | int8 | int16 | int32 | int64 | float32](out []float64, s []T) {
	for i, v := range s {
		out[i] = float64(v)
	}
}

// JSONData is the flat data as JSON-friendly values: float16/bfloat16 as
// numbers, strings as strings, NaN/Inf as null would break JSON so they become strings.
func (t *Tensor) JSONData() any {
	switch d := t.Data.(type) {
	case []uint16:
		if t.DType == Float16 || t.DType == BFloat16 {
			return jsonFloats(t.Float64s())
		}
		return d
	case []float32:
		for _, v := range d {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return jsonFloats(t.Float64s())
			}
		}
		return d
	case []float64:
		return jsonFloats(d)
	case []uint8:
		// encoding/json would write []uint8 as base64.
		out := make([]int, len(d))
		for i, v := range d {
			out[i] = int(v)
		}
		return out
	}
	return t.Data
}

func jsonFloats(f []float64) []any {
	out := make([]any, len(f))
	for i, v := range f {
		switch {
		case math.IsNaN(v):
			out[i] = "NaN"
		case math.IsInf(v, 1):
			out[i] = "Infinity"
		case math.IsInf(v, -1):
			out[i] = "-Infinity"
		default:
			out[i] = v
		}
	}
	return out
}

// Nested reshapes the flat JSON data into nested arrays following the shape.
func (t *Tensor) Nested() any {
	flat := t.JSONData()
	if len(t.Shape) <= 1 {
		return flat
	}
	vals := toAnySlice(flat)
	var build func(dims []int64, off int) (any, int)
	build = func(dims []int64, off int) (any, int) {
		if len(dims) == 0 {
			return vals[off], off + 1
		}
		out := make([]any, dims[0])
		for i := range out {
			out[i], off = build(dims[1:], off)
		}
		return out, off
	}
	v, _ := build(t.Shape, 0)
	return v
}

func toAnySlice(v any) []any {
	switch d := v.(type) {
	case []any:
		return d
	case []bool:
		return anyOf(d)
	case []uint16:
		return anyOf(d)
	case []uint32:
		return anyOf(d)
	case []uint64:
		return anyOf(d)
	case []int:
		return anyOf(d)
	case []int8:
		return anyOf(d)
	case []int16:
		return anyOf(d)
	case []int32:
		return anyOf(d)
	case []int64:
		return anyOf(d)
	case []float32:
		return anyOf(d)
	case []float64:
		return anyOf(d)
	case []string:
		return anyOf(d)
	}
	return nil
}

func anyOf[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Bytes encodes the data little-endian, the layout of the KServe binary
// extension (strings as 4-byte length + bytes).
func (t *Tensor) Bytes() []byte {
	if s, ok := t.Data.([]string); ok {
		n := 0
		for _, v := range s {
			n += 4 + len(v)
		}
		out := make([]byte, 0, n)
		for _, v := range s {
			out = binary.LittleEndian.AppendUint32(out, uint32(len(v)))
			out = append(out, v...)
		}
		return out
	}
	out := make([]byte, 0, t.Len()*t.DType.Size())
	out, _ = binary.Append(out, binary.LittleEndian, t.Data)
	return out
}

// FromBytes decodes raw little-endian data (the binary extension) of n elements.
func FromBytes(dt DType, n int, b []byte) (any, error) {
	if dt == String {
		out := make([]string, 0, n)
		for len(b) > 0 {
			if len(b) < 4 {
				return nil, fmt.Errorf("BYTES data ends inside a length prefix")
			}
			l := binary.LittleEndian.Uint32(b)
			b = b[4:]
			if uint64(l) > uint64(len(b)) {
				return nil, fmt.Errorf("BYTES element of %d bytes overruns the data", l)
			}
			out = append(out, string(b[:l]))
			b = b[l:]
		}
		if len(out) != n {
			return nil, fmt.Errorf("%d BYTES elements, the shape needs %d", len(out), n)
		}
		return out, nil
	}
	if sz := dt.Size(); sz == 0 || len(b) != n*sz {
		return nil, fmt.Errorf("%d bytes of data, the shape needs %d", len(b), n*dt.Size())
	}
	data := MakeData(dt, n)
	if _, err := binary.Decode(b, binary.LittleEndian, data); err != nil {
		return nil, err
	}
	return data, nil
}

// Float16ToFloat32 decodes IEEE 754 half precision bits. The conversions
// below have one implementation, in internal/safetensors.
func Float16ToFloat32(h uint16) float32 { return safetensors.Float16ToFloat32(h) }

// Float32ToFloat16 encodes half precision bits, rounding to nearest even.
func Float32ToFloat16(f float32) uint16 { return safetensors.Float32ToFloat16(f) }

// BFloat16ToFloat32 decodes bfloat16 bits.
func BFloat16ToFloat32(h uint16) float32 { return safetensors.BFloat16ToFloat32(h) }

// Float32ToBFloat16 encodes bfloat16 bits, rounding to nearest even.
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
