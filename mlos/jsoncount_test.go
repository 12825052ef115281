package mlos

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeJSONCount(t *testing.T) {
	for _, c := range []struct {
		in   string
		dt   DType
		n    int64
		want any
		err  string
	}{
		{`[1, 2, 3, 4]`, Int64, 4, []int64{1, 2, 3, 4}, ""},
		{`[[1, 2], [3, 4]]`, Float32, 4, []float32{1, 2, 3, 4}, ""},
		{`[9007199254740993]`, Int64, 1, []int64{9007199254740993}, ""},
		{`[1.0, 2e0]`, Int64, 2, []int64{1, 2}, ""},
		{`[1.5]`, Int64, 1, nil, "does not fit"},
		{`[1, 2, 3]`, Int64, 2, nil, "more than the 2 elements"},
		{`[1]`, Int64, 2, nil, "1 elements, the shape needs 2"},
		{`[1,]`, Float32, 1, nil, "not JSON"},
		{`[1 2]`, Float32, 2, nil, "not JSON"},
		{`[true, false]`, Bool, 2, []bool{true, false}, ""},
		{`["a", "b"]`, String, 2, []string{"a", "b"}, ""},
		{`[1]`, Float32, 1 << 30, nil, "cannot hold"},
	} {
		got, err := DecodeJSONCount([]byte(c.in), c.dt, c.n)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s as %d %s: %v, want error %q", c.in, c.n, c.dt, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s as %d %s: %v %v, want %v", c.in, c.n, c.dt, got, err, c.want)
		}
	}
}
