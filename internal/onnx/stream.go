package onnx

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protowire"
)

// InitStream adds an initializer whose size bytes of little-endian data are
// produced by write while WriteModel serialises the model, so that a converter
// holds one tensor at a time instead of the whole model.
func (b *Builder) InitStream(name string, dims []int64, dtype int32, size int64, write func(io.Writer) error) *Builder {
	want := int64(DTypeSize(dtype))
	for _, d := range dims {
		want *= d
	}
	if want != size {
		b.fail(fmt.Errorf("initializer %q: dims %v of %s need %d bytes, got %d", name, dims, DTypeName(dtype), want, size))
	}
	b.inits = append(b.inits, &initializer{name: name, dims: append([]int64(nil), dims...), dtype: dtype, size: size, write: write})
	return b
}

// ProducerVersion sets the model's producer_version.
func (b *Builder) ProducerVersion(v string) *Builder { b.producerVersion = v; return b }

// InitializerBytes is the total size of the initializers' data.
func (b *Builder) InitializerBytes() int64 {
	var n int64
	for _, in := range b.inits {
		n += in.dataSize()
	}
	return n
}

func (in *initializer) dataSize() int64 {
	if in.write != nil {
		return in.size
	}
	return int64(len(in.raw))
}

// ExternalThreshold is the initializer size above which WriteModel puts the
// weights in an external data file: a protobuf message cannot exceed 2 GiB.
const ExternalThreshold = 2_000_000_000

// WriteModel streams the model to dir/name. When the initializers' data exceed
// threshold bytes (0 = ExternalThreshold) it goes to dir/name+".data" as ONNX
// external data and external names that file; initializers added with data
// (InitFloat, InitInt64: shape constants that shape inference reads) stay
// inline. Initializer data is written in order, one initializer at a time.
func (b *Builder) WriteModel(dir, name string, threshold int64) (external []string, err error) {
	if b.err != nil {
		return nil, fmt.Errorf("build onnx model: %w", b.err)
	}
	if threshold <= 0 {
		threshold = ExternalThreshold
	}
	ext := ""
	if b.InitializerBytes() > threshold {
		ext = name + ".data"
		external = []string{ext}
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var dw *bufio.Writer
	var df *os.File
	if ext != "" {
		df, err = os.Create(filepath.Join(dir, ext))
		if err != nil {
			return nil, err
		}
		defer func() {
			if cerr := df.Close(); err == nil {
				err = cerr
			}
		}()
		dw = bufio.NewWriterSize(df, 1<<20)
	}

	// Headers of each initializer (everything but the data), and the graph's length.
	var head []byte
	for _, n := range b.nodes {
		head = appendMsg(head, 1, n)
	}
	head = appendString(head, 2, b.name)
	var tail []byte
	for _, in := range b.inputs {
		tail = appendMsg(tail, 11, in)
	}
	for _, out := range b.outputs {
		tail = appendMsg(tail, 12, out)
	}
	hdrs := make([][]byte, len(b.inits))
	graphLen := int64(len(head) + len(tail))
	var off int64
	for i, in := range b.inits {
		t := in.header()
		size := in.dataSize()
		tlen := int64(len(t))
		if ext == "" || in.write == nil {
			t = protowire.AppendTag(t, 9, protowire.BytesType)
			t = protowire.AppendVarint(t, uint64(size))
			tlen = int64(len(t)) + size
		} else {
			off = (off + 63) &^ 63
			t = appendExternal(t, ext, off, size)
			off += size
			tlen = int64(len(t))
		}
		var pre []byte
		pre = protowire.AppendTag(pre, 5, protowire.BytesType)
		pre = protowire.AppendVarint(pre, uint64(tlen))
		hdrs[i] = append(pre, t...)
		graphLen += int64(len(pre)) + tlen
	}

	m := appendVarint(nil, 1, uint64(b.irVersion))
	m = appendString(m, 2, b.producer)
	if b.producerVersion != "" {
		m = appendString(m, 3, b.producerVersion)
	}
	m = protowire.AppendTag(m, 7, protowire.BytesType)
	m = protowire.AppendVarint(m, uint64(graphLen))
	if _, err := w.Write(append(m, head...)); err != nil {
		return nil, err
	}
	var dataPos int64
	for i, in := range b.inits {
		if _, err := w.Write(hdrs[i]); err != nil {
			return nil, err
		}
		dst := w
		if ext != "" && in.write != nil {
			for pad := (dataPos+63)&^63 - dataPos; pad > 0; pad-- {
				if err := dw.WriteByte(0); err != nil {
					return nil, err
				}
				dataPos++
			}
			dst = dw
		}
		cw := &countWriter{w: dst}
		if in.write != nil {
			err = in.write(cw)
		} else {
			_, err = cw.Write(in.raw)
		}
		if err != nil {
			return nil, fmt.Errorf("write initializer %s: %w", in.name, err)
		}
		if cw.n != in.dataSize() {
			return nil, fmt.Errorf("write initializer %s: wrote %d bytes, declared %d", in.name, cw.n, in.dataSize())
		}
		if dst == dw {
			dataPos += cw.n
		}
	}
	if _, err := w.Write(tail); err != nil {
		return nil, err
	}
	if _, err := w.Write(b.appendModelTail(nil)); err != nil {
		return nil, err
	}
	if dw != nil {
		if err := dw.Flush(); err != nil {
			return nil, err
		}
	}
	return external, w.Flush()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
