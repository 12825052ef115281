package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, p string, ts []WriteTensor) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTripAndShards(t *testing.T) {
	dir := t.TempDir()
	a := WriteTensor{Name: "a.weight", DType: "F32", Shape: []int64{2, 3}, Data: Float32Bytes([]float32{1, 2, 3, 4, 5, 6})}
	bf := make([]byte, 4)
	binary.LittleEndian.PutUint16(bf, 0x3fc0) // 1.5 in bfloat16
	binary.LittleEndian.PutUint16(bf[2:], Float32ToFloat16(-2.25))
	b := WriteTensor{Name: "b.bias", DType: "BF16", Shape: []int64{1}, Data: bf[:2]}
	c := WriteTensor{Name: "c.half", DType: "F16", Shape: []int64{1}, Data: bf[2:]}
	writeFile(t, filepath.Join(dir, "model-00001-of-00002.safetensors"), []WriteTensor{a})
	writeFile(t, filepath.Join(dir, "model-00002-of-00002.safetensors"), []WriteTensor{b, c})
	idx := `{"metadata":{},"weight_map":{"a.weight":"model-00001-of-00002.safetensors","b.bias":"model-00002-of-00002.safetensors","c.half":"model-00002-of-00002.safetensors"}}`
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(idx), 0o644)
	m, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := strings.Join(m.Names(), ","); got != "a.weight,b.bias,c.half" {
		t.Fatalf("names %s", got)
	}
	ta := m.Tensor("a.weight")
	raw, _ := io.ReadAll(ta.Reader())
	out := make([]float32, 6)
	DecodeFloat32(ta.DType, raw, out)
	if out[5] != 6 || ta.Elements() != 6 {
		t.Fatalf("a = %v", out)
	}
	for name, want := range map[string]float32{"b.bias": 1.5, "c.half": -2.25} {
		tt := m.Tensor(name)
		raw, _ := io.ReadAll(tt.Reader())
		v := make([]float32, 1)
		DecodeFloat32(tt.DType, raw, v)
		if v[0] != want {
			t.Errorf("%s = %v, want %v", name, v[0], want)
		}
	}
	// An index naming a tensor its shard lacks is refused.
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map":{"zz":"model-00002-of-00002.safetensors"}}`), 0o644)
	if _, err := OpenModel(dir); !errors.Is(err, ErrInvalid) {
		t.Fatalf("missing tensor: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), []byte(`{"weight_map":{"a.weight":"../x.safetensors"}}`), 0o644)
	if _, err := OpenModel(dir); !errors.Is(err, ErrInvalid) {
		t.Fatalf("escaping shard: %v", err)
	}
}

func header(h string, data int) []byte {
	b := make([]byte, 8, 8+len(h)+data)
	binary.LittleEndian.PutUint64(b, uint64(len(h)))
	b = append(b, h...)
	return append(b, make([]byte, data)...)
}

func TestBadHeaders(t *testing.T) {
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, math.MaxUint64)
	cases := map[string][]byte{
		"short":        {1, 2},
		"huge length":  huge,
		"not json":     header("nope", 0),
		"bad dtype":    header(`{"a":{"dtype":"X9","shape":[1],"data_offsets":[0,4]}}`, 4),
		"out of range": header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, 4),
		"size":         header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4),
		"overlap":      header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}`, 8),
		"negative":     header(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4),
		"overflow":     header(`{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}`, 4),
		"no offsets":   header(`{"a":{"dtype":"F32","shape":[1]}}`, 4),
		"metadata":     header(`{"__metadata__":{"a":1}}`, 0),
	}
	for name, b := range cases {
		if _, err := ParseHeader(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestHalf(t *testing.T) {
	for _, f := range []float32{0, 1, -2.25, 65504, 6.1035156e-05, 5.9604645e-08, 0.333251953125} {
		if g := Float16ToFloat32(Float32ToFloat16(f)); g != f {
			t.Errorf("%v -> %v", f, g)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4))
	f.Add(header(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[2,1],"data_offsets":[0,4]}}`, 4))
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := ParseHeader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, tt := range sf.Tensors {
			if tt.End > int64(len(b))-sf.dataStart || tt.Size() != tt.Elements()*DTypeSize(tt.DType) {
				t.Fatalf("accepted bad tensor %+v", tt)
			}
		}
	})
}
