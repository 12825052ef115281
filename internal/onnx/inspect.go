package onnx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/mlos-foundation/axon/schemas"
)

// Info is what a model.onnx says about itself.
type Info struct {
	IRVersion int
	Opset     int // version of the default ("" / ai.onnx) operator set
	// Opsets maps every imported domain to its version ("" is the default domain).
	Opsets          map[string]int
	ProducerName    string
	ProducerVersion string
	GraphName       string
	Inputs          []schemas.Tensor // graph inputs that are not initializers
	Outputs         []schemas.Tensor
	// Parameters is the number of elements in all initializers.
	Parameters int64
	// Initializers counts the graph's initializers.
	Initializers int
	// ExternalData lists the files (relative to the model's directory, '/' separators)
	// that initializers keep their data in, in order of first reference.
	ExternalData []string
	// Metadata holds the model's metadata_props.
	Metadata map[string]string
}

// ModelProto, GraphProto... field numbers from onnx.proto.
const (
	modelIRVersion       = 1
	modelProducerName    = 2
	modelProducerVersion = 3
	modelGraph           = 7
	modelOpsetImport     = 8
	modelMetadataProps   = 14

	graphName        = 2
	graphInitializer = 5
	graphInput       = 11
	graphOutput      = 12

	tensorDims         = 1
	tensorDataType     = 2
	tensorName         = 8
	tensorExternalData = 13
	tensorDataLocation = 14

	valueInfoName = 1
	valueInfoType = 2

	typeTensor       = 1
	typeSparseTensor = 8
	tensorTypeElem   = 1
	tensorTypeShape  = 2
	shapeDim         = 1
	dimValue         = 1
	dimParam         = 2

	opsetDomain  = 1
	opsetVersion = 2

	entryKey   = 1
	entryValue = 2
)

// maxSmallMessage bounds the messages Inspect reads into memory (value infos,
// tensor headers, strings). Weights are skipped, never read.
const maxSmallMessage = 64 << 20

// ErrNotONNX is returned (wrapped) when the input is not a valid ONNX model.
var ErrNotONNX = errors.New("not a valid ONNX model")

// Inspect reads the ONNX model at p and describes it. Weights are streamed past,
// not loaded, so it runs in little memory whatever the model's size.
func Inspect(p string) (*Info, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("inspect onnx: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("inspect onnx: %w", err)
	}
	info, err := InspectReader(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", filepath.Base(p), err)
	}
	return info, nil
}

// InspectReader describes the ONNX model of size bytes read from r; a negative
// size reads to EOF.
func InspectReader(r io.Reader, size int64) (*Info, error) {
	if size < 0 {
		size = math.MaxInt64
	}
	s := &stream{r: bufio.NewReaderSize(r, 64<<10), src: r}
	if sk, ok := r.(io.Seeker); ok {
		if cur, err := sk.Seek(0, io.SeekCurrent); err == nil {
			s.seeker = sk
			// With an unknown size, a seek past the end would pass for a clean end.
			if end, err := sk.Seek(0, io.SeekEnd); err == nil && size == math.MaxInt64 {
				size = end - cur
			}
			if _, err := sk.Seek(cur, io.SeekStart); err != nil {
				return nil, fmt.Errorf("inspect onnx: %w", err)
			}
		}
	}
	info := &Info{Opset: 0}
	var graphSeen bool
	var initializers = map[string]bool{}
	var inputs []schemas.Tensor
	err := s.message(size, func(num protowire.Number, typ protowire.Type, end int64) error {
		switch {
		case num == modelIRVersion && typ == protowire.VarintType:
			v, err := s.varint()
			info.IRVersion = clampInt(v)
			return err
		case num == modelProducerName && typ == protowire.BytesType:
			b, err := s.small(end)
			info.ProducerName = string(b)
			return err
		case num == modelProducerVersion && typ == protowire.BytesType:
			b, err := s.small(end)
			info.ProducerVersion = string(b)
			return err
		case num == modelOpsetImport && typ == protowire.BytesType:
			b, err := s.small(end)
			if err != nil {
				return err
			}
			domain, version, err := parseOpset(b)
			if err != nil {
				return err
			}
			if info.Opsets == nil {
				info.Opsets = map[string]int{}
			}
			if domain == "ai.onnx" {
				domain = ""
			}
			info.Opsets[domain] = version
			if domain == "" {
				info.Opset = version
			}
			return nil
		case num == modelMetadataProps && typ == protowire.BytesType:
			b, err := s.small(end)
			if err != nil {
				return err
			}
			k, v, err := parseEntry(b)
			if err != nil {
				return err
			}
			if info.Metadata == nil {
				info.Metadata = map[string]string{}
			}
			info.Metadata[k] = v
			return nil
		case num == modelGraph && typ == protowire.BytesType:
			n, err := s.length(end)
			if err != nil {
				return err
			}
			graphSeen = true
			return s.message(s.pos+n, func(num protowire.Number, typ protowire.Type, end int64) error {
				return graphField(s, info, &inputs, initializers, num, typ, end)
			})
		}
		return s.skipField(typ, end)
	})
	if err != nil {
		return nil, err
	}
	if !graphSeen {
		return nil, fmt.Errorf("%w: the model has no graph", ErrNotONNX)
	}
	if info.IRVersion <= 0 {
		return nil, fmt.Errorf("%w: ir_version is missing", ErrNotONNX)
	}
	for _, in := range inputs {
		if !initializers[in.Name] {
			info.Inputs = append(info.Inputs, in)
		}
	}
	if info.Inputs == nil {
		info.Inputs = []schemas.Tensor{}
	}
	if info.Outputs == nil {
		info.Outputs = []schemas.Tensor{}
	}
	return info, nil
}

func graphField(s *stream, info *Info, inputs *[]schemas.Tensor, inits map[string]bool, num protowire.Number, typ protowire.Type, end int64) error {
	if typ != protowire.BytesType {
		return s.skipField(typ, end)
	}
	switch num {
	case graphName:
		b, err := s.small(end)
		info.GraphName = string(b)
		return err
	case graphInput, graphOutput:
		b, err := s.small(end)
		if err != nil {
			return err
		}
		t, err := parseValueInfo(b)
		if err != nil {
			return err
		}
		if num == graphInput {
			*inputs = append(*inputs, t)
		} else {
			info.Outputs = append(info.Outputs, t)
		}
		return nil
	case graphInitializer:
		n, err := s.length(end)
		if err != nil {
			return err
		}
		name, elems, location, err := s.tensorHeader(s.pos + n)
		if err != nil {
			return fmt.Errorf("initializer: %w", err)
		}
		info.Initializers++
		inits[name] = true
		if elems > 0 && info.Parameters <= math.MaxInt64-elems {
			info.Parameters += elems
		}
		if location != "" {
			if !SafeRelPath(location) {
				return fmt.Errorf("initializer %q: external data location %q escapes the model's directory", name, location)
			}
			loc := path.Clean(strings.ReplaceAll(location, "\\", "/"))
			for _, l := range info.ExternalData {
				if l == loc {
					return nil
				}
			}
			info.ExternalData = append(info.ExternalData, loc)
		}
		return nil
	}
	// Nodes, value_info and annotations may be large (Constant nodes hold tensors).
	return s.skipField(typ, end)
}

// SafeRelPath reports whether p is a relative path that stays inside its directory.
func SafeRelPath(p string) bool {
	if p == "" || strings.ContainsRune(p, 0) {
		return false
	}
	p = strings.ReplaceAll(p, "\\", "/")
	if strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':') {
		return false
	}
	c := path.Clean(p)
	return c != "." && c != ".." && !strings.HasPrefix(c, "../")
}

// tensorHeader reads one TensorProto up to end, keeping only its name, element
// count and external data location; data fields are skipped.
func (s *stream) tensorHeader(end int64) (name string, elems int64, location string, err error) {
	elems = 1
	var hasDims bool
	err = s.message(end, func(num protowire.Number, typ protowire.Type, fend int64) error {
		switch {
		case num == tensorName && typ == protowire.BytesType:
			b, err := s.small(fend)
			name = string(b)
			return err
		case num == tensorDims && typ == protowire.VarintType:
			v, err := s.varint()
			hasDims = true
			elems = mulDim(elems, int64(v))
			return err
		case num == tensorDims && typ == protowire.BytesType: // packed
			b, err := s.small(fend)
			if err != nil {
				return err
			}
			for len(b) > 0 {
				v, n := protowire.ConsumeVarint(b)
				if n < 0 {
					return fmt.Errorf("%w: bad dims", ErrNotONNX)
				}
				b = b[n:]
				hasDims = true
				elems = mulDim(elems, int64(v))
			}
			return nil
		case num == tensorExternalData && typ == protowire.BytesType:
			b, err := s.small(fend)
			if err != nil {
				return err
			}
			k, v, err := parseEntry(b)
			if err != nil {
				return err
			}
			if k == "location" {
				location = v
			}
			return nil
		}
		return s.skipField(typ, fend)
	})
	_ = hasDims // a tensor without dims is a scalar: one element
	return name, elems, location, err
}

func mulDim(acc, d int64) int64 {
	if d < 0 || acc < 0 {
		return -1
	}
	if d != 0 && acc > math.MaxInt64/d {
		return -1
	}
	return acc * d
}

func clampInt(v uint64) int {
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(v)
}

func parseOpset(b []byte) (string, int, error) {
	var domain string
	var version int
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) {
		switch {
		case num == opsetDomain && typ == protowire.BytesType:
			domain = string(v)
		case num == opsetVersion && typ == protowire.VarintType:
			version = clampInt(x)
		}
	})
	return domain, version, err
}

func parseEntry(b []byte) (string, string, error) {
	var k, val string
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) {
		if typ != protowire.BytesType {
			return
		}
		switch num {
		case entryKey:
			k = string(v)
		case entryValue:
			val = string(v)
		}
	})
	return k, val, err
}

func parseValueInfo(b []byte) (schemas.Tensor, error) {
	t := schemas.Tensor{Shape: []schemas.Dim{}}
	var typeBytes []byte
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) {
		if typ != protowire.BytesType {
			return
		}
		switch num {
		case valueInfoName:
			t.Name = string(v)
		case valueInfoType:
			typeBytes = v
		}
	})
	if err != nil {
		return t, err
	}
	t.DType = "undefined"
	var tensorBytes []byte
	kind := ""
	err = fields(typeBytes, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) {
		if typ != protowire.BytesType {
			return
		}
		switch num {
		case typeTensor, typeSparseTensor:
			tensorBytes = v
			kind = "tensor"
		case 4:
			kind = "sequence"
		case 5:
			kind = "map"
		case 9:
			kind = "optional"
		}
	})
	if err != nil {
		return t, err
	}
	if kind != "tensor" {
		if kind != "" {
			t.DType = kind
		}
		return t, nil
	}
	var shapeBytes []byte
	hasShape := false
	err = fields(tensorBytes, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) {
		switch {
		case num == tensorTypeElem && typ == protowire.VarintType:
			t.DType = DTypeName(int32(x))
		case num == tensorTypeShape && typ == protowire.BytesType:
			shapeBytes, hasShape = v, true
		}
	})
	if err != nil {
		return t, err
	}
	if !hasShape {
		t.Shape = nil // unknown rank
		return t, nil
	}
	var dimErr error
	err = fields(shapeBytes, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) {
		if num != shapeDim || typ != protowire.BytesType {
			return
		}
		d := schemas.Dim{Size: -1}
		if e := fields(v, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) {
			switch {
			case num == dimValue && typ == protowire.VarintType:
				d = schemas.Dim{Size: int64(x)}
				if d.Size < 0 {
					d.Size = -1
				}
			case num == dimParam && typ == protowire.BytesType:
				d = schemas.Dim{Size: -1, Name: string(v)}
			}
		}); e != nil {
			dimErr = e
		}
		t.Shape = append(t.Shape, d)
	})
	if err == nil {
		err = dimErr
	}
	return t, err
}

// fields walks the fields of an in-memory message.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrNotONNX, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: %v", ErrNotONNX, protowire.ParseError(n))
		}
		b = b[n:]
		fn(num, typ, v, x)
	}
	return nil
}

// stream decodes protobuf wire format from a reader, keeping the offset so that
// nested messages can be bounded and skipped without being read into memory.
type stream struct {
	r   *bufio.Reader
	pos int64
	// src and seeker (when src can seek) let skip jump over weights instead of
	// reading them: inspecting a 10 GB model reads a few kilobytes.
	src    io.Reader
	seeker io.Seeker
}

func (s *stream) readByte() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, fmt.Errorf("%w: truncated", ErrNotONNX)
	}
	s.pos++
	return c, nil
}

func (s *stream) varint() (uint64, error) {
	var x uint64
	for i := 0; i < 10; i++ {
		c, err := s.readByte()
		if err != nil {
			return 0, err
		}
		if i == 9 && c > 1 {
			break
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, nil
		}
	}
	return 0, fmt.Errorf("%w: varint overflow", ErrNotONNX)
}

// message calls fn for every field up to the offset end; fn must consume the field's value.
func (s *stream) message(end int64, fn func(num protowire.Number, typ protowire.Type, end int64) error) error {
	for s.pos < end {
		if end == math.MaxInt64 { // unknown size: a clean EOF between fields ends the message
			if _, err := s.r.Peek(1); err == io.EOF {
				return nil
			}
		}
		tag, err := s.varint()
		if err != nil {
			return err
		}
		num, typ := protowire.DecodeTag(tag)
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return fmt.Errorf("%w: bad field number", ErrNotONNX)
		}
		if err := fn(num, typ, end); err != nil {
			return err
		}
		if s.pos > end {
			return fmt.Errorf("%w: field overruns its message", ErrNotONNX)
		}
	}
	return nil
}

// length reads the length of a bytes field and checks that it fits before end.
func (s *stream) length(end int64) (int64, error) {
	v, err := s.varint()
	if err != nil {
		return 0, err
	}
	if v > uint64(end-s.pos) {
		return 0, fmt.Errorf("%w: field overruns its message", ErrNotONNX)
	}
	return int64(v), nil
}

// small reads a bytes field into memory.
func (s *stream) small(end int64) ([]byte, error) {
	n, err := s.length(end)
	if err != nil {
		return nil, err
	}
	if n > maxSmallMessage {
		return nil, fmt.Errorf("%w: a %d-byte header field is too large", ErrNotONNX, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, fmt.Errorf("%w: truncated", ErrNotONNX)
	}
	s.pos += n
	return b, nil
}

func (s *stream) skip(n int64) error {
	if buffered := int64(s.r.Buffered()); s.seeker != nil && n > buffered+(64<<10) {
		if _, err := s.r.Discard(int(buffered)); err != nil {
			return fmt.Errorf("%w: truncated", ErrNotONNX)
		}
		if _, err := s.seeker.Seek(n-buffered, io.SeekCurrent); err != nil {
			return fmt.Errorf("%w: %v", ErrNotONNX, err)
		}
		s.r.Reset(s.src)
		s.pos += n
		return nil
	}
	d, err := s.r.Discard(int(min(n, math.MaxInt32)))
	s.pos += int64(d)
	if err != nil {
		return fmt.Errorf("%w: truncated", ErrNotONNX)
	}
	if int64(d) < n {
		return s.skip(n - int64(d))
	}
	return nil
}

func (s *stream) skipField(typ protowire.Type, end int64) error {
	switch typ {
	case protowire.VarintType:
		_, err := s.varint()
		return err
	case protowire.Fixed32Type:
		return s.skip(4)
	case protowire.Fixed64Type:
		return s.skip(8)
	case protowire.BytesType:
		n, err := s.length(end)
		if err != nil {
			return err
		}
		return s.skip(n)
	}
	// Groups are not used by ONNX.
	return fmt.Errorf("%w: unsupported wire type %d", ErrNotONNX, typ)
}
