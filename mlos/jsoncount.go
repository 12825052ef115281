package mlos

import (
	"fmt"
	"strconv"
	"unsafe"
)

// DecodeJSONCount decodes the KServe v2 "data" of a tensor whose shape says
// it holds n elements: numbers (flat, or nested in row-major order) go
// straight into a slice of n, so memory is the tensor itself, and input that
// cannot hold n elements is refused before anything is allocated. Booleans
// and strings take the generic path, after the same size check.
func DecodeJSONCount(raw []byte, dt DType, n int64) (any, error) {
	// Every element is at least one byte plus a separator.
	if n > int64(len(raw))/2+1 {
		return nil, fmt.Errorf("%d bytes of JSON cannot hold the %d elements the shape needs", len(raw), n)
	}
	if dt != String && dt != Bool {
		data := MakeData(dt, int(n))
		if data == nil {
			return nil, fmt.Errorf("unsupported type %s", dt)
		}
		if ok, err := decodeNumbersInto(raw, dt, data, int(n)); ok {
			return data, err
		}
	}
	data, shape, err := DecodeJSON(raw, dt)
	if err != nil {
		return nil, err
	}
	if got := NumElements(shape); got != n {
		return nil, fmt.Errorf("%d elements, the shape needs %d", got, n)
	}
	return data, nil
}

// decodeNumbersInto parses arrays of JSON numbers (any nesting) into data.
// ok is false when raw holds anything but numbers and brackets, for the
// generic path to explain.
func decodeNumbersInto(raw []byte, dt DType, data any, n int) (ok bool, err error) {
	i, count, depth := 0, 0, 0
	expectValue, comma := true, false
	for i < len(raw) {
		c := raw[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[':
			if !expectValue {
				return false, nil
			}
			comma = false
			depth++
			i++
		case c == ']':
			if depth == 0 || comma {
				return false, nil
			}
			depth--
			expectValue = false
			i++
		case c == ',':
			if expectValue || depth == 0 {
				return false, nil
			}
			expectValue, comma = true, true
			i++
		case (c >= '0' && c <= '9') || c == '-':
			if !expectValue {
				return false, nil
			}
			start := i
			for i < len(raw) {
				c := raw[i]
				if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
					i++
					continue
				}
				break
			}
			if count >= n {
				return true, fmt.Errorf("more than the %d elements the shape needs", n)
			}
			if err := setToken(data, dt, count, unsafe.String(&raw[start], i-start)); err != nil {
				return true, fmt.Errorf("element %d: %w", count, err)
			}
			count++
			expectValue, comma = false, false
		default:
			return false, nil
		}
	}
	if depth != 0 || expectValue && count > 0 {
		return false, nil
	}
	if count != n {
		return true, fmt.Errorf("%d elements, the shape needs %d", count, n)
	}
	return true, nil
}

// setToken stores one JSON number; 64-bit integers are read from their
// digits (float64 would round ids above 2^53).
func setToken(data any, dt DType, i int, tok string) error {
	switch d := data.(type) {
	case []int64:
		if v, err := strconv.ParseInt(tok, 10, 64); err == nil {
			d[i] = v
			return nil
		}
	case []uint64:
		if v, err := strconv.ParseUint(tok, 10, 64); err == nil {
			d[i] = v
			return nil
		}
	case []float32:
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return fmt.Errorf("%s is not a number", tok)
		}
		d[i] = float32(v)
		return nil
	}
	v, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		return fmt.Errorf("%s is not a number", tok)
	}
	if !setNumber(data, dt, i, v) {
		return fmt.Errorf("%s does not fit %s", tok, dt)
	}
	return nil
}
