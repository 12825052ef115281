package adapters

import (
	"path"
	"strings"
)

// Detect fills Framework and Kind from the fetched file list when the adapter
// has not: an ONNX file wins, then a transformers config, a SavedModel, TorchScript.
func Detect(m *Model) {
	if m.Framework != "" && m.Kind != "" {
		return
	}
	has := func(pred func(string) bool) bool {
		for _, f := range m.Files {
			if pred(f) {
				return true
			}
		}
		return false
	}
	switch {
	case has(func(f string) bool { return strings.HasSuffix(f, ".onnx") }):
		m.Framework, m.Kind = "onnx", "onnx"
	case has(func(f string) bool { return path.Base(f) == "saved_model.pb" }):
		m.Framework, m.Kind = "tensorflow", "savedmodel"
	case has(func(f string) bool { return f == "config.json" }) &&
		has(func(f string) bool {
			return strings.HasSuffix(f, ".safetensors") || strings.HasSuffix(f, ".bin")
		}):
		m.Framework, m.Kind = "transformers", "transformers"
	case has(func(f string) bool { return strings.HasSuffix(f, ".pt") || strings.HasSuffix(f, ".pth") }):
		m.Framework, m.Kind = "pytorch", "torchscript"
	}
}
