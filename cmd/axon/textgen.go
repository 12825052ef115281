package main

import (
	"fmt"
	"io"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/schemas"
)

// mlosURL is the mlosd address the printed OpenAI call uses.
func mlosURL() string { return axon.MLOSURL() }

// printTextGeneration is inspect's summary of a text-generation package: KV
// cache, chat template, which ONNX export, and the OpenAI call to try it.
func printTextGeneration(w io.Writer, m *schemas.Manifest) {
	if m != nil && m.Format.Variant != "" {
		fmt.Fprintf(w, "# onnx variant: %s (%s)\n", m.Format.Variant, m.Format.SourceFile)
	}
	tg := m.TextGenerationInfo(mlosURL())
	if tg == nil {
		return
	}
	fmt.Fprintf(w, "# text generation: KV cache %s, chat template %s\n", yesNo(tg.KVCache), yesNo(tg.ChatTemplate))
	fmt.Fprintf(w, "# OpenAI API (after axon register): %s\n", tg.Curl)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
