package server

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/mlos"
)

// A hand encoder for inference responses: the bytes are exactly those
// encoding/json (through echo's c.JSON) writes for the same response, built
// with strconv into a pooled buffer instead of through reflection and a
// boxed value per element. It covers numeric and boolean tensors; anything
// else (strings, half floats, NaN or infinities, which mlosd answers as
// strings) answers ok=false and takes encoding/json. TestResponseJSON and
// FuzzResponseJSON compare the two byte for byte.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled keeps an occasional huge buffer out of the pool.
const maxPooled = 1 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		*b = (*b)[:0]
		bufPool.Put(b)
	}
}

// writeJSON answers an encoded body; the caller returns the buffer after.
func writeJSON(c echo.Context, body []byte) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(body)
	return err
}

// plainJSON reports whether c.JSON would answer without indentation, as the
// hand encoder does (?pretty asks for indentation).
func plainJSON(c echo.Context) bool {
	return c.Request().URL.RawQuery == "" && !c.Echo().Debug
}

// appendString writes s as encoding/json does (HTML characters escaped) for
// the strings that need no escaping; ok is false for the others.
func appendString(b []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			return b, false
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// appendFloat is encoding/json's float encoding: shortest representation,
// exponent form only for very small or large magnitudes, "e-7" not "e-07".
func appendFloat(b []byte, f float64, bits int) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendElems writes d flat, or nested by shape (as Tensor.Nested does).
func appendElems[T any](b []byte, d []T, shape []int64, nested bool, elem func([]byte, T) []byte) []byte {
	if !nested || len(shape) <= 1 {
		b = append(b, '[')
		for i, v := range d {
			if i > 0 {
				b = append(b, ',')
			}
			b = elem(b, v)
		}
		return append(b, ']')
	}
	off := 0
	var rec func(dims []int64)
	rec = func(dims []int64) {
		b = append(b, '[')
		for i := range dims[0] {
			if i > 0 {
				b = append(b, ',')
			}
			if len(dims) == 1 {
				b = elem(b, d[off])
				off++
			} else {
				rec(dims[1:])
			}
		}
		b = append(b, ']')
	}
	rec(shape)
	return b
}

func finite32(d []float32) bool {
	for _, v := range d {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

func finite64(d []float64) bool {
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func appendInt[T int8 | int16 | int32 | int64](b []byte, v T) []byte {
	return strconv.AppendInt(b, int64(v), 10)
}

func appendUint[T uint8 | uint16 | uint32 | uint64](b []byte, v T) []byte {
	return strconv.AppendUint(b, uint64(v), 10)
}

// appendTensorData writes what Tensor.JSONData (flat) or Tensor.Nested
// encodes to.
func appendTensorData(b []byte, t *mlos.Tensor, nested bool) ([]byte, bool) {
	if t.Data == nil || int64(t.Len()) != mlos.NumElements(t.Shape) {
		return b, false
	}
	switch d := t.Data.(type) {
	case []float32:
		if d == nil || !finite32(d) {
			return b, false
		}
		return appendElems(b, d, t.Shape, nested, func(b []byte, v float32) []byte { return appendFloat(b, float64(v), 32) }), true
	case []float64:
		if d == nil || !finite64(d) {
			return b, false
		}
		return appendElems(b, d, t.Shape, nested, func(b []byte, v float64) []byte { return appendFloat(b, v, 64) }), true
	case []int64:
		return appendElems(b, d, t.Shape, nested, appendInt[int64]), d != nil
	case []int32:
		return appendElems(b, d, t.Shape, nested, appendInt[int32]), d != nil
	case []int16:
		return appendElems(b, d, t.Shape, nested, appendInt[int16]), d != nil
	case []int8:
		return appendElems(b, d, t.Shape, nested, appendInt[int8]), d != nil
	case []uint64:
		return appendElems(b, d, t.Shape, nested, appendUint[uint64]), d != nil
	case []uint32:
		return appendElems(b, d, t.Shape, nested, appendUint[uint32]), d != nil
	case []uint16:
		if t.DType == mlos.Float16 || t.DType == mlos.BFloat16 {
			return b, false
		}
		return appendElems(b, d, t.Shape, nested, appendUint[uint16]), d != nil
	case []uint8:
		return appendElems(b, d, t.Shape, nested, appendUint[uint8]), d != nil
	case []bool:
		return appendElems(b, d, t.Shape, nested, strconv.AppendBool), d != nil
	}
	return b, false
}

func appendShape(b []byte, shape []int64) []byte {
	b = append(b, '[')
	for i, d := range shape {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, d, 10)
	}
	return append(b, ']')
}

// appendV2Response writes the V2Response of JSON outputs, as c.JSON would.
func appendV2Response(b []byte, model, version, id string, outs []*mlos.Tensor) ([]byte, bool) {
	if len(outs) == 0 {
		return b, false
	}
	ok := true
	field := func(name, v string) {
		b = append(b, name...)
		if ok {
			b, ok = appendString(b, v)
		}
	}
	field(`{"model_name":`, model)
	if version != "" {
		field(`,"model_version":`, version)
	}
	if id != "" {
		field(`,"id":`, id)
	}
	b = append(b, `,"outputs":[`...)
	for i, t := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		field(`{"name":`, t.Name)
		if t.Shape == nil {
			return b, false
		}
		b = appendShape(append(b, `,"shape":`...), t.Shape)
		field(`,"datatype":`, t.DType.V2())
		b = append(b, `,"data":`...)
		if ok {
			b, ok = appendTensorData(b, t, false)
		}
		b = append(b, '}')
	}
	return append(b, "]}\n"...), ok
}

// appendSeedResponse writes api.InferenceResponse{Output: mlos.RawOutputs(outs),
// Latency: latency} as c.JSON would: the outputs by name, sorted, each nested by
// its shape.
func appendSeedResponse(b []byte, outs []*mlos.Tensor, latency string) ([]byte, bool) {
	if len(outs) == 0 || !utf8.ValidString(latency) {
		return b, false
	}
	sorted := outs
	if !slices.IsSortedFunc(outs, func(x, y *mlos.Tensor) int { return strings.Compare(x.Name, y.Name) }) {
		sorted = slices.SortedFunc(slices.Values(outs), func(x, y *mlos.Tensor) int { return strings.Compare(x.Name, y.Name) })
	}
	ok := true
	b = append(b, `{"output":{`...)
	for i, t := range sorted {
		if i > 0 {
			if t.Name == sorted[i-1].Name { // a map keeps one of them
				return b, false
			}
			b = append(b, ',')
		}
		if ok {
			b, ok = appendString(b, t.Name)
		}
		b = append(b, ':')
		if ok {
			b, ok = appendTensorData(b, t, true)
		}
	}
	b = append(b, `},"latency":"`...)
	// A duration's text (digits, '.', h m s µ n) needs no escaping.
	for _, r := range latency {
		if r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' {
			return b, false
		}
	}
	b = append(b, latency...)
	return append(b, "\"}\n"...), ok
}
