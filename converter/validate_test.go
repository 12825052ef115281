package converter

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/testutil"
)

func writeRaw(t *testing.T, dir, name string, xs []float32) {
	t.Helper()
	b := make([]byte, 4*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestValidateAgainstORT drives validate with a Builder model and a sample whose
// reference is ORT's own answer, then the same answer nudged past the tolerance.
func TestValidateAgainstORT(t *testing.T) {
	lib := testutil.ORTLibrary(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.onnx")
	if err := onnx.TinyMLP(3, 4, 2, 5).WriteFile(model); err != nil {
		t.Fatal(err)
	}
	info, err := onnx.Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	x := linspace(6)
	ref, _ := runONNX(t, model, x, 2, 3)
	vdir := filepath.Join(dir, "validation")
	if err := os.Mkdir(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeRaw(t, vdir, "input_0.bin", x)
	write := func(s sample, out []float32) {
		writeRaw(t, vdir, "output_0.bin", out)
		b, _ := json.Marshal(s)
		if err := os.WriteFile(filepath.Join(vdir, "sample.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := sample{
		Reference: "test",
		// tf2onnx-style decorated names still match.
		Inputs:  []sampleTensor{{Name: "x:0", DType: "float32", Shape: []int64{2, 3}, File: "input_0.bin"}},
		Outputs: []sampleTensor{{Name: "y", DType: "float32", Shape: []int64{2, 2}, File: "output_0.bin"}},
	}
	o := Options{ORTLibrary: lib}.withDefaults()
	write(s, ref)
	v, err := validate(model, info, vdir, o)
	if err != nil || !v.Passed || v.MaxAbsDiff != 0 || v.Reference != "test" || v.Tolerance != DefaultTolerance {
		t.Fatalf("exact reference: %+v %v", v, err)
	}
	nudged := append([]float32(nil), ref...)
	nudged[3] += 0.01
	write(s, nudged)
	v, err = validate(model, info, vdir, o)
	if !errors.Is(err, ErrValidation) || v == nil || v.Passed || math.Abs(v.MaxAbsDiff-0.01) > 1e-4 {
		t.Fatalf("nudged reference: %+v %v", v, err)
	}
	o.Tolerance = 0.1
	if v, err = validate(model, info, vdir, o); err != nil || !v.Passed {
		t.Fatalf("looser tolerance: %+v %v", v, err)
	}

	// Shape and size mismatches are errors, never panics.
	bad := s
	bad.Outputs = []sampleTensor{{Name: "y", DType: "float32", Shape: []int64{4, 1}, File: "output_0.bin"}}
	write(bad, ref)
	if _, err := validate(model, info, vdir, o); !errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong shape: %v", err)
	}
	bad.Outputs = []sampleTensor{{Name: "y", DType: "float32", Shape: []int64{2, 3}, File: "output_0.bin"}}
	write(bad, ref)
	if _, err := validate(model, info, vdir, o); !errors.Is(err, ErrValidation) {
		t.Errorf("wrong size: %v", err)
	}
	bad = s
	bad.Inputs = []sampleTensor{{Name: "other", DType: "float32", Shape: []int64{2, 3}, File: "input_0.bin"}, {Name: "more", DType: "float32", Shape: []int64{2, 3}, File: "input_0.bin"}}
	write(bad, ref)
	if _, err := validate(model, info, vdir, o); !errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), `input "x"`) {
		t.Errorf("missing input: %v", err)
	}
	bad = s
	bad.Inputs = []sampleTensor{{Name: "x", DType: "complex128", Shape: []int64{2, 3}, File: "../../etc/passwd"}}
	write(bad, ref)
	if _, err := validate(model, info, vdir, o); !errors.Is(err, ErrValidation) {
		t.Errorf("bad dtype: %v", err)
	}
	if err := os.Remove(filepath.Join(vdir, "sample.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := validate(model, info, vdir, o); !errors.Is(err, ErrValidation) {
		t.Errorf("no sample: %v", err)
	}
}

func TestHalfToFloat(t *testing.T) {
	for h, want := range map[uint16]float64{
		0x3C00: 1, 0xC000: -2, 0x7BFF: 65504, 0x0001: math.Ldexp(1, -24), 0x3555: 0.333251953125, 0x0000: 0,
	} {
		if got := halfToFloat(h); got != want {
			t.Errorf("half %#04x = %g, want %g", h, got, want)
		}
	}
	if !math.IsInf(halfToFloat(0x7C00), 1) || !math.IsNaN(halfToFloat(0x7E00)) {
		t.Error("inf/nan")
	}
}
