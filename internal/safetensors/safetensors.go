// Package safetensors reads Hugging Face safetensors files (single files and
// sharded model.safetensors.index.json) tensor by tensor, without loading the
// whole model: the header is parsed and validated, then each tensor's bytes are
// read from its own offset on demand.
//
// Format: an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data section; offsets are relative to the data section.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// MaxHeader bounds the JSON header: real headers are kilobytes to a few
// megabytes; a crafted length must not make the reader allocate gigabytes.
const MaxHeader = 100 << 20

// ErrInvalid marks a malformed file (errors.Is).
var ErrInvalid = errors.New("invalid safetensors")

// Tensor describes one tensor of a file.
type Tensor struct {
	Name  string
	DType string  // F32, F16, BF16, I64...
	Shape []int64 // empty for a scalar
	// Begin and End are offsets of the data relative to the data section.
	Begin, End int64
	file       *File
}

// Size is the tensor's data size in bytes.
func (t *Tensor) Size() int64 { return t.End - t.Begin }

// Elements is the number of elements (1 for a scalar).
func (t *Tensor) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Reader reads the tensor's raw little-endian bytes.
func (t *Tensor) Reader() io.Reader {
	return io.NewSectionReader(t.file.f, t.file.dataStart+t.Begin, t.Size())
}

// File is one open safetensors file.
type File struct {
	Path      string
	Metadata  map[string]string
	Tensors   []*Tensor // sorted by data offset
	byName    map[string]*Tensor
	f         *os.File
	dataStart int64
}

// DTypeSize is the element size of a safetensors dtype, 0 when unknown.
func DTypeSize(dt string) int64 {
	switch dt {
	case "F64", "I64", "U64":
		return 8
	case "F32", "I32", "U32":
		return 4
	case "F16", "BF16", "I16", "U16":
		return 2
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}

// Open opens and validates one safetensors file.
func Open(p string) (*File, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	sf, err := parse(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("safetensors %s: %w", filepath.Base(p), err)
	}
	sf.Path, sf.f = p, f
	return sf, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Tensor returns the named tensor, or nil.
func (f *File) Tensor(name string) *Tensor { return f.byName[name] }

// ParseHeader validates the header of a file of the given total size read
// from r (the first bytes of the file); it is what Open checks, exposed for fuzzing.
func ParseHeader(r io.ReaderAt, size int64) (*File, error) { return parse(r, size) }

func parse(r io.ReaderAt, size int64) (*File, error) {
	var lb [8]byte
	if size < 8 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the 8-byte header length", ErrInvalid, size)
	}
	if _, err := r.ReadAt(lb[:], 0); err != nil {
		return nil, fmt.Errorf("%w: read header length: %v", ErrInvalid, err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n < 2 || n > MaxHeader || int64(n) > size-8 {
		return nil, fmt.Errorf("%w: header length %d out of bounds (file %d bytes, limit %d)", ErrInvalid, n, size, MaxHeader)
	}
	hb := make([]byte, n)
	if _, err := r.ReadAt(hb, 8); err != nil {
		return nil, fmt.Errorf("%w: read header: %v", ErrInvalid, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object: %v", ErrInvalid, err)
	}
	sf := &File{byName: map[string]*Tensor{}, dataStart: 8 + int64(n)}
	dataLen := size - sf.dataStart
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &sf.Metadata); err != nil {
				return nil, fmt.Errorf("%w: __metadata__ must map strings to strings: %v", ErrInvalid, err)
			}
			continue
		}
		var h struct {
			DType       string    `json:"dtype"`
			Shape       []int64   `json:"shape"`
			DataOffsets [2]*int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrInvalid, name, err)
		}
		es := DTypeSize(h.DType)
		if es == 0 {
			return nil, fmt.Errorf("%w: tensor %q: unknown dtype %q", ErrInvalid, name, h.DType)
		}
		if h.DataOffsets[0] == nil || h.DataOffsets[1] == nil {
			return nil, fmt.Errorf("%w: tensor %q: data_offsets missing", ErrInvalid, name)
		}
		b, e := *h.DataOffsets[0], *h.DataOffsets[1]
		if b < 0 || e < b || e > dataLen {
			return nil, fmt.Errorf("%w: tensor %q: data_offsets [%d, %d] outside the %d-byte data section", ErrInvalid, name, b, e, dataLen)
		}
		elems := int64(1)
		for _, d := range h.Shape {
			if d < 0 {
				return nil, fmt.Errorf("%w: tensor %q: negative dimension in %v", ErrInvalid, name, h.Shape)
			}
			if d > 0 && elems > math.MaxInt64/es/d {
				return nil, fmt.Errorf("%w: tensor %q: shape %v overflows", ErrInvalid, name, h.Shape)
			}
			elems *= d
		}
		if elems*es != e-b {
			return nil, fmt.Errorf("%w: tensor %q: shape %v of %s needs %d bytes, data_offsets give %d", ErrInvalid, name, h.Shape, h.DType, elems*es, e-b)
		}
		t := &Tensor{Name: name, DType: h.DType, Shape: h.Shape, Begin: b, End: e, file: sf}
		sf.Tensors = append(sf.Tensors, t)
		sf.byName[name] = t
	}
	sort.Slice(sf.Tensors, func(i, j int) bool {
		a, b := sf.Tensors[i], sf.Tensors[j]
		if a.Begin != b.Begin {
			return a.Begin < b.Begin
		}
		return a.End < b.End
	})
	for i := 1; i < len(sf.Tensors); i++ {
		if p, t := sf.Tensors[i-1], sf.Tensors[i]; t.Begin < p.End {
			return nil, fmt.Errorf("%w: tensors %q and %q overlap", ErrInvalid, p.Name, t.Name)
		}
	}
	return sf, nil
}

// Model is a set of files making one checkpoint: one model.safetensors or the
// shards an index names.
type Model struct {
	Files  []*File
	byName map[string]*Tensor
}

// OpenModel opens dir's model.safetensors, or the shards listed by
// model.safetensors.index.json, and checks that every tensor is found once.
func OpenModel(dir string) (*Model, error) {
	m := &Model{byName: map[string]*Tensor{}}
	idx := filepath.Join(dir, "model.safetensors.index.json")
	var files []string
	var weightMap map[string]string
	if b, err := os.ReadFile(idx); err == nil {
		var ix struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(b, &ix); err != nil {
			return nil, fmt.Errorf("safetensors: %w: model.safetensors.index.json: %v", ErrInvalid, err)
		}
		if len(ix.WeightMap) == 0 {
			return nil, fmt.Errorf("safetensors: %w: model.safetensors.index.json has no weight_map", ErrInvalid)
		}
		weightMap = ix.WeightMap
		for _, f := range ix.WeightMap {
			if f != filepath.Base(f) || !strings.HasSuffix(f, ".safetensors") {
				return nil, fmt.Errorf("safetensors: %w: shard name %q must be a .safetensors file beside the index", ErrInvalid, f)
			}
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
		slices.Sort(files)
	} else if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		files = []string{"model.safetensors"}
	} else {
		return nil, fmt.Errorf("safetensors: no model.safetensors or model.safetensors.index.json in %s", dir)
	}
	for _, name := range files {
		f, err := Open(filepath.Join(dir, name))
		if err != nil {
			m.Close()
			return nil, err
		}
		m.Files = append(m.Files, f)
		for _, t := range f.Tensors {
			if weightMap != nil && weightMap[t.Name] != name {
				continue // a shard may carry extras the index does not map
			}
			if _, dup := m.byName[t.Name]; dup {
				m.Close()
				return nil, fmt.Errorf("safetensors: %w: tensor %q is in two shards", ErrInvalid, t.Name)
			}
			m.byName[t.Name] = t
		}
	}
	for n, f := range weightMap {
		if m.byName[n] == nil {
			m.Close()
			return nil, fmt.Errorf("safetensors: %w: the index maps %q to %s, which does not hold it", ErrInvalid, n, f)
		}
	}
	return m, nil
}

// Tensor returns the named tensor, or nil.
func (m *Model) Tensor(name string) *Tensor { return m.byName[name] }

// Names lists every tensor name, sorted.
func (m *Model) Names() []string {
	out := make([]string, 0, len(m.byName))
	for n := range m.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Close closes every file.
func (m *Model) Close() error {
	var err error
	for _, f := range m.Files {
		err = errors.Join(err, f.Close())
	}
	return err
}
