package onnx

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// WriteModel without external data writes the very bytes Bytes does, and with a
// tiny threshold moves the data out into model.onnx.data where Inspect finds it.
func TestWriteModelStreams(t *testing.T) {
	b := TinyMLP(4, 8, 2, 1)
	want, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b.InitStream("extra", []int64{2}, TypeFloat, 8, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 8))
		return err
	})
	dir := t.TempDir()
	if _, err := b.WriteModel(dir, "model.onnx", 0); err != nil {
		t.Fatal(err)
	}
	ref := TinyMLP(4, 8, 2, 1).InitFloat("extra", []int64{2}, []float32{0, 0})
	want, _ = ref.Bytes()
	got, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if !bytes.Equal(got, want) {
		t.Fatalf("streamed model differs from Bytes (%d vs %d bytes)", len(got), len(want))
	}
	ext, err := b.WriteModel(dir, "ext.onnx", 1)
	if err != nil || len(ext) != 1 || ext[0] != "ext.onnx.data" {
		t.Fatalf("external: %v %v", ext, err)
	}
	info, err := Inspect(filepath.Join(dir, "ext.onnx"))
	if err != nil || len(info.ExternalData) != 1 || info.Initializers != 5 {
		t.Fatalf("inspect: %+v %v", info, err)
	}
	bad := NewBuilder("x").InitStream("w", []int64{2}, TypeFloat, 8, func(w io.Writer) error { _, err := w.Write(make([]byte, 4)); return err })
	if _, err := bad.WriteModel(dir, "bad.onnx", 0); err == nil {
		t.Fatal("short initializer accepted")
	}
}
