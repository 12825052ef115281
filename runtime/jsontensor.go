package runtime

import (
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
	n := NumElements(shape)
	if n > 1<<31 {
		return nil, nil, fmt.Errorf("too many elements")
	}
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
