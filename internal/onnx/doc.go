// Package onnx reads and writes the ONNX model format without cgo or generated code.
//
// Inspect describes a model.onnx (IR version, opsets, the graph's inputs and outputs
// with symbolic dims, parameter count, external data files) by streaming over the
// protobuf wire format, so weights are never held in memory. Builder writes small,
// valid models for tests and examples; TinyMLP and TinyTextClassifier are ready-made.
package onnx
