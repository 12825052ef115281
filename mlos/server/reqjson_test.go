package server

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/api"
)

var requestSeeds = []string{
	`{"input": [[1, 2.5, -3e2]]}`, `{"input": {"x": [[1,2,3]]}, "parameters": {"k": 1}}`, `{"input": "hi", "stream": true}`,
	`{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}`,
	`{"id": "a1", "inputs": [{"name": "x", "shape": [], "datatype": "INT64", "data": 7, "parameters": {"binary_data_size": 8}}], "outputs": [{"name": "y", "parameters": {"binary_data": true}}], "parameters": {"binary_data_output": false}}`,
	`{"Inputs": []}`, `{"inputs": [{"name": "x", "name": "y"}]}`, `{"input": [01]}`, `{"input": [1.]}`, `{"input": [-]}`,
	`{"input": "\u00e9\n"}`, `{"inputs": [{"shape": [1.0]}]}`, `{"inputs": [{"shape": [99999999999999999999]}]}`, `{"input": null}`,
	`{"input": [1] } x`, `{"input": [1e400]}`, `{"input": [true, false, null, {"a": []}]}`,
}

// FuzzRequestJSON: wherever the hand parser answers, encoding/json gives the
// same request; where encoding/json fails, the hand parser does not answer.
func FuzzRequestJSON(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkRequestJSON(t, b) })
}

func TestRequestJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range requestSeeds {
		checkRequestJSON(t, []byte(s))
	}
	// The benchmark's bodies take the fast path.
	var v2 V2Request
	if !fastV2Request([]byte(requestSeeds[3]), &v2) || !fastV2Request([]byte(requestSeeds[4]), &v2) {
		t.Fatal("a plain v2 request took the slow path")
	}
	var seed api.InferenceRequest
	if !fastSeedRequest([]byte(requestSeeds[0]), &seed) || !fastSeedRequest([]byte(requestSeeds[1]), &seed) {
		t.Fatal("a plain seed request took the slow path")
	}
}

func checkRequestJSON(t *testing.T, b []byte) {
	t.Helper()
	var fastV2, slowV2 V2Request
	if fastV2Request(b, &fastV2) {
		if err := json.Unmarshal(b, &slowV2); err != nil {
			t.Fatalf("%q: fast v2 parse accepted what encoding/json refuses: %v", b, err)
		}
		if !reflect.DeepEqual(fastV2, slowV2) {
			t.Fatalf("%q: v2 fast %+v, encoding/json %+v", b, fastV2, slowV2)
		}
	}
	var fastSeed, slowSeed api.InferenceRequest
	if fastSeedRequest(b, &fastSeed) {
		if err := json.Unmarshal(b, &slowSeed); err != nil {
			t.Fatalf("%q: fast seed parse accepted what encoding/json refuses: %v", b, err)
		}
		if !reflect.DeepEqual(fastSeed, slowSeed) {
			t.Fatalf("%q: seed fast %+v, encoding/json %+v", b, fastSeed, slowSeed)
		}
	}
	// The scanner accepts only valid JSON.
	s := scanner{b: b}
	if _, ok := s.value(); ok && s.end() && !json.Valid(b) {
		t.Fatalf("%q: scanner accepted invalid JSON", b)
	}
}

// randomTensor makes a tensor of a type the hand encoder covers, with
// awkward values (huge, tiny, negative zero, NaN now and then).
func randomTensor(rng *rand.Rand) *mlos.Tensor {
	shape := make([]int64, rng.IntN(4))
	n := 1
	for i := range shape {
		shape[i] = int64(rng.IntN(4))
		n *= int(shape[i])
	}
	f := func() float64 {
		switch rng.IntN(8) {
		case 0:
			return math.Copysign(0, -1)
		case 1:
			return rng.NormFloat64() * 1e-9
		case 2:
			return rng.NormFloat64() * 1e25
		case 3:
			if rng.IntN(10) == 0 {
				return math.NaN()
			}
		}
		return rng.NormFloat64()
	}
	t := &mlos.Tensor{Name: []string{"y", "logits", "a<b", "z"}[rng.IntN(4)], Shape: shape}
	switch rng.IntN(5) {
	case 0:
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(f())
		}
		t.DType, t.Data = mlos.Float32, d
	case 1:
		d := make([]float64, n)
		for i := range d {
			d[i] = f()
		}
		t.DType, t.Data = mlos.Float64, d
	case 2:
		d := make([]int64, n)
		for i := range d {
			d[i] = rng.Int64() - math.MaxInt64/2
		}
		t.DType, t.Data = mlos.Int64, d
	case 3:
		d := make([]uint8, n)
		for i := range d {
			d[i] = uint8(rng.IntN(256))
		}
		t.DType, t.Data = mlos.Uint8, d
	default:
		d := make([]bool, n)
		for i := range d {
			d[i] = rng.IntN(2) == 0
		}
		t.DType, t.Data = mlos.Bool, d
	}
	return t
}

// TestResponseJSON: the hand encoder writes what encoding/json writes (with
// echo's trailing newline), byte for byte, or declines.
func TestResponseJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	declined := 0
	for i := range 3000 {
		outs := []*mlos.Tensor{randomTensor(rng)}
		if i%3 == 0 {
			outs = append(outs, randomTensor(rng))
		}
		got, ok := appendV2Response(nil, "bench/mlp", []string{"", "1"}[i%2], []string{"", "req-1"}[i%3%2], outs)
		resp := V2Response{ModelName: "bench/mlp", ModelVersion: []string{"", "1"}[i%2], ID: []string{"", "req-1"}[i%3%2]}
		for _, o := range outs {
			resp.Outputs = append(resp.Outputs, V2Tensor{Name: o.Name, Shape: o.Shape, Datatype: o.DType.V2(), Data: o.JSONData()})
		}
		want, err := json.Marshal(resp)
		if ok {
			if err != nil || string(got) != string(want)+"\n" {
				t.Fatalf("v2 %d: hand %s\nencoding/json %s (%v)", i, got, want, err)
			}
		} else {
			declined++
		}
		got, ok = appendSeedResponse(nil, outs, "12.345µs")
		want, err = json.Marshal(api.InferenceResponse{Output: mlos.RawOutputs(outs), Latency: "12.345µs"})
		if ok && (err != nil || string(got) != string(want)+"\n") {
			t.Fatalf("seed %d: hand %s\nencoding/json %s (%v)", i, got, want, err)
		}
	}
	if declined > 1500 {
		t.Fatalf("the hand encoder declined %d of 3000 responses", declined)
	}
}
