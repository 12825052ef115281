package mlos

import (
	"encoding/json"
	"fmt"
)

// FromJSON turns decoded JSON (a scalar or nested arrays) into flat data of
// type dt and the shape the nesting implies. Errors say what was wrong,
// never panic: they end up in 400 responses.
func FromJSON(v any, dt DType) (data any, shape []int64, err error) {
	// Find the shape by walking the first element of each level.
	cur := v
	for {
		arr, ok := cur.([]any)
		if !ok {
			break
		}
		shape = append(shape, int64(len(arr)))
		if len(arr) == 0 {
			break
		}
		cur = arr[0]
	}
	// Check the nesting is rectangular before allocating: the shape comes
	// from the first element of each level, which a ragged array can inflate.
	var check func(x any, depth int) error
	check = func(x any, depth int) error {
		if depth == len(shape) {
			if _, ok := x.([]any); ok {
				return fmt.Errorf("ragged array: too deep at depth %d", depth)
			}
			return nil
		}
		arr, ok := x.([]any)
		if !ok || int64(len(arr)) != shape[depth] {
			return fmt.Errorf("ragged array: every row at depth %d must have %d elements", depth, shape[depth])
		}
		for _, e := range arr {
			if err := check(e, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check(v, 0); err != nil {
		return nil, nil, err
	}
	n := NumElements(shape)
	data = MakeData(dt, int(n))
	if data == nil {
		return nil, nil, fmt.Errorf("unsupported type %s", dt)
	}
	i := 0
	var walk func(x any, depth int) error
	walk = func(x any, depth int) error {
		if depth < len(shape) {
			arr, ok := x.([]any)
			if !ok || int64(len(arr)) != shape[depth] {
				return fmt.Errorf("ragged array: every row at depth %d must have %d elements", depth, shape[depth])
			}
			for _, e := range arr {
				if err := walk(e, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if err := setJSONValue(data, dt, i, x); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		i++
		return nil
	}
	if err := walk(v, 0); err != nil {
		return nil, nil, err
	}
	return data, shape, nil
}

// FlatFromJSON decodes a flat (or nested, flattened in row-major order) JSON
// array that must hold exactly n elements: the KServe v2 "data" field.
func FlatFromJSON(v any, dt DType, n int64) (any, error) {
	data, shape, err := FromJSON(v, dt)
	if err != nil {
		return nil, err
	}
	if got := NumElements(shape); got != n {
		return nil, fmt.Errorf("%d elements, the shape needs %d", got, n)
	}
	return data, nil
}

func setJSONValue(data any, dt DType, i int, x any) error {
	switch v := x.(type) {
	case float64:
		if dt == String {
			return fmt.Errorf("want a string, got a number")
		}
		if !setNumber(data, dt, i, v) {
			return fmt.Errorf("%v does not fit %s", v, dt)
		}
	case bool:
		if dt == String {
			return fmt.Errorf("want a string, got a boolean")
		}
		f := 0.0
		if v {
			f = 1
		}
		if !setNumber(data, dt, i, f) {
			return fmt.Errorf("%v does not fit %s", v, dt)
		}
	case string:
		if s, ok := data.([]string); ok {
			s[i] = v
			return nil
		}
		return fmt.Errorf("want a number of type %s, got a string", dt)
	case nil:
		return fmt.Errorf("want a %s, got null", dt)
	default:
		return fmt.Errorf("want a %s, got %T", dt, x)
	}
	return nil
}

// DecodeJSON is FromJSON on raw JSON bytes. Arrays of numbers, the common
// case, are measured in one pass (shape, rectangularity) and parsed straight
// into a typed slice in a second, so the only allocation is the tensor
// itself; anything else takes the generic path.
func DecodeJSON(raw []byte, dt DType) (data any, shape []int64, err error) {
	if dt != String && dt != Bool {
		if shape, ok := numbersShape(raw); ok {
			n := NumElements(shape)
			data = MakeData(dt, int(n))
			if data == nil {
				return nil, nil, fmt.Errorf("unsupported type %s", dt)
			}
			if ok, err := decodeNumbersInto(raw, dt, data, int(n)); ok {
				if err != nil {
					return nil, nil, err
				}
				return data, shape, nil
			}
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, nil, fmt.Errorf("not JSON: %w", err)
	}
	return FromJSON(v, dt)
}

// numbersShape measures a scalar or rectangular nested arrays of JSON
// numbers without storing them. ok is false for anything else.
func numbersShape(b []byte) (shape []int64, ok bool) {
	p := numParser{b: b, leaf: -1, count: true}
	if !p.value(0) {
		return nil, false
	}
	p.skip()
	if p.i != len(p.b) || p.leaf < 0 {
		return nil, false
	}
	return append([]int64(nil), p.shape[:p.leaf]...), true
}

type numParser struct {
	b     []byte
	i     int
	leaf  int // depth of the numbers, -1 until the first one (or empty array)
	shape [32]int64
	set   [32]bool
	count bool // only measure: numbers are checked for their characters, not parsed
}

func (p *numParser) value(d int) bool {
	p.skip()
	if p.i >= len(p.b) {
		return false
	}
	if p.b[p.i] != '[' {
		if p.leaf >= 0 && p.leaf != d {
			return false
		}
		p.leaf = d
		return p.number()
	}
	if d >= len(p.shape)-1 {
		return false
	}
	p.i++
	p.skip()
	var n int64
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		// An empty array ends the shape here.
		if p.leaf >= 0 && p.leaf != d+1 {
			return false
		}
		p.leaf = d + 1
	} else {
		for {
			if !p.value(d + 1) {
				return false
			}
			n++
			p.skip()
			if p.i >= len(p.b) {
				return false
			}
			if p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.b[p.i] != ']' {
				return false
			}
			p.i++
			break
		}
	}
	if p.set[d] && p.shape[d] != n {
		return false
	}
	p.shape[d], p.set[d] = n, true
	return true
}

func (p *numParser) skip() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *numParser) number() bool {
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	return p.i > start
}
