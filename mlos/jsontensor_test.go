package mlos

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodeJSONMatchesGeneric(t *testing.T) {
	for _, in := range []string{
		`[[1, 2.5, -3e2], [4, 5, 6]]`, `7`, `[]`, `[[]]`, `[ [ [1] , [2] ] ]`, `[1, [2]]`, `[[1, 2], [3]]`,
		`[1, "a"]`, `[true, 1]`, `[1,]`, `[[1],[2],]`, ``, `[1 2]`, `[-]`, `[1e400]`, `{"a": 1}`, `[[1, 2], 3]`,
	} {
		var v any
		gerr := json.Unmarshal([]byte(in), &v)
		var gdata any
		var gshape []int64
		if gerr == nil {
			gdata, gshape, gerr = FromJSON(v, Float32)
		}
		data, shape, err := DecodeJSON([]byte(in), Float32)
		if (err == nil) != (gerr == nil) {
			t.Errorf("%s: fast err %v, generic err %v", in, err, gerr)
			continue
		}
		if err == nil && (!reflect.DeepEqual(data, gdata) || !reflect.DeepEqual(shape, gshape) && !(len(shape) == 0 && len(gshape) == 0)) {
			t.Errorf("%s: fast %v %v, generic %v %v", in, data, shape, gdata, gshape)
		}
	}
	data, shape, err := DecodeJSON([]byte(`[[1, 2]]`), Int64)
	if err != nil || !reflect.DeepEqual(data, []int64{1, 2}) || !reflect.DeepEqual(shape, []int64{1, 2}) {
		t.Fatalf("int64: %v %v %v", data, shape, err)
	}
	if _, _, err := DecodeJSON([]byte(`[1.5]`), Int64); err == nil {
		t.Fatal("1.5 accepted as int64")
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`[[1,2],[3,4]]`, `1`, `[]`, `[[[-1e5]]]`, `["x"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		data, shape, err := DecodeJSON(b, Float64)
		if err != nil {
			return
		}
		if NumElements(shape) != int64(len(data.([]float64))) {
			t.Fatalf("%q: %d values for shape %v", b, len(data.([]float64)), shape)
		}
	})
}

func TestBatchable(t *testing.T) {
	spec := func(shape []int64, names ...string) TensorSpec { return TensorSpec{Shape: shape, DimNames: names} }
	for _, c := range []struct {
		ins, outs []TensorSpec
		want      bool
	}{
		{[]TensorSpec{spec([]int64{-1, 3}, "batch", "")}, []TensorSpec{spec([]int64{-1, 2}, "batch", "")}, true},
		{[]TensorSpec{spec([]int64{-1, 3})}, []TensorSpec{spec([]int64{-1, 2})}, true},
		{[]TensorSpec{spec([]int64{-1})}, []TensorSpec{spec([]int64{-1})}, false},
		{[]TensorSpec{spec([]int64{-1, 8}, "sequence", "")}, []TensorSpec{spec([]int64{-1, 8}, "sequence", "")}, false},
		{[]TensorSpec{spec([]int64{1, 3})}, []TensorSpec{spec([]int64{-1, 2}, "batch", "")}, false},
		{[]TensorSpec{spec([]int64{-1, 3}, "batch", "")}, []TensorSpec{spec([]int64{-1, 2}, "batch_size", "")}, false},
		{[]TensorSpec{spec([]int64{-1}, "N")}, []TensorSpec{spec([]int64{-1}, "N")}, true},
	} {
		if got := batchable(c.ins, c.outs); got != c.want {
			t.Errorf("batchable(%v, %v) = %v, want %v", c.ins, c.outs, got, c.want)
		}
	}
}

func TestValidName(t *testing.T) {
	for n, want := range map[string]bool{
		"hf/bert-base-uncased": true, "a": true, "team/x/y.z_1": true,
		"": false, "Hf/Bert": false, "a//b": false, "/a": false, "a/": false, "../x": false,
		"x/ready": false, "x/versions/1": false, "inference": false, "x/infer": false,
	} {
		if got := ValidName(n); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", n, got, want)
		}
	}
}
