package onnx_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlos-foundation/axon/internal/onnx"
)

// A dynamic-batch model built in Go, then described by Inspect.
func ExampleInspect() {
	dir, _ := os.MkdirTemp("", "onnx-example")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "model.onnx")

	b := onnx.NewBuilder("scale")
	b.Input("x", "float32", "batch", 3)
	b.InitFloat("w", []int64{3}, []float32{1, 2, 3})
	b.Node("Mul", []string{"x", "w"}, []string{"y"})
	b.Output("y", "float32", "batch", 3)
	if err := b.WriteFile(p); err != nil {
		panic(err)
	}

	info, err := onnx.Inspect(p)
	if err != nil {
		panic(err)
	}
	fmt.Println("opset", info.Opset, "parameters", info.Parameters)
	for _, t := range info.Inputs {
		fmt.Println("input", t.Name, t.DType, t.Shape)
	}
	for _, t := range info.Outputs {
		fmt.Println("output", t.Name, t.DType, t.Shape)
	}
	// Output:
	// opset 17 parameters 3
	// input x float32 [batch 3]
	// output y float32 [batch 3]
}
