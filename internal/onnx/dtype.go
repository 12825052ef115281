package onnx

import (
	"strconv"
	"strings"
)

// Element types of TensorProto.DataType (onnx.proto).
const (
	TypeUndefined  = 0
	TypeFloat      = 1
	TypeUint8      = 2
	TypeInt8       = 3
	TypeUint16     = 4
	TypeInt16      = 5
	TypeInt32      = 6
	TypeInt64      = 7
	TypeString     = 8
	TypeBool       = 9
	TypeFloat16    = 10
	TypeDouble     = 11
	TypeUint32     = 12
	TypeUint64     = 13
	TypeComplex64  = 14
	TypeComplex128 = 15
	TypeBfloat16   = 16
)

// dtypeNames are the lower-case names manifest.yaml uses (schemas.Tensor.DType),
// numpy-style where numpy has one.
var dtypeNames = map[int32]string{
	TypeFloat:      "float32",
	TypeUint8:      "uint8",
	TypeInt8:       "int8",
	TypeUint16:     "uint16",
	TypeInt16:      "int16",
	TypeInt32:      "int32",
	TypeInt64:      "int64",
	TypeString:     "string",
	TypeBool:       "bool",
	TypeFloat16:    "float16",
	TypeDouble:     "float64",
	TypeUint32:     "uint32",
	TypeUint64:     "uint64",
	TypeComplex64:  "complex64",
	TypeComplex128: "complex128",
	TypeBfloat16:   "bfloat16",
	17:             "float8e4m3fn",
	18:             "float8e4m3fnuz",
	19:             "float8e5m2",
	20:             "float8e5m2fnuz",
	21:             "uint4",
	22:             "int4",
	23:             "float4e2m1",
	24:             "float8e8m0",
	25:             "uint2",
	26:             "int2",
}

// DTypeName returns the manifest name of an ONNX element type ("float32"...);
// unknown codes give "undefined" or "type(N)" rather than failing, so a model made
// by a newer exporter can still be described.
func DTypeName(code int32) string {
	if n, ok := dtypeNames[code]; ok {
		return n
	}
	if code == TypeUndefined {
		return "undefined"
	}
	return "type(" + strconv.Itoa(int(code)) + ")"
}

// DTypeCode returns the ONNX element type of a manifest dtype name, accepting the
// common aliases (float, double, half); ok is false for unknown names.
func DTypeCode(name string) (int32, bool) {
	switch n := strings.ToLower(strings.TrimSpace(name)); n {
	case "float":
		return TypeFloat, true
	case "double":
		return TypeDouble, true
	case "half":
		return TypeFloat16, true
	default:
		for c, s := range dtypeNames {
			if s == n {
				return c, true
			}
		}
	}
	return 0, false
}

// DTypeSize is the size in bytes of one element, 0 for string and sub-byte or unknown types.
func DTypeSize(code int32) int {
	switch code {
	case TypeFloat, TypeInt32, TypeUint32:
		return 4
	case TypeUint8, TypeInt8, TypeBool, 17, 18, 19, 20, 24:
		return 1
	case TypeUint16, TypeInt16, TypeFloat16, TypeBfloat16:
		return 2
	case TypeInt64, TypeDouble, TypeUint64, TypeComplex64:
		return 8
	case TypeComplex128:
		return 16
	}
	return 0
}
