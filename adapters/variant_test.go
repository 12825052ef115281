package adapters

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestChooseONNX(t *testing.T) {
	onnxCommunity := []string{"config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json",
		"onnx/model.onnx", "onnx/model.onnx_data", "onnx/model_fp16.onnx", "onnx/model_fp16.onnx_data",
		"onnx/model_q4.onnx", "onnx/model_q4f16.onnx", "onnx/model_quantized.onnx", "onnx/model_int8.onnx", "model.safetensors"}
	merged := []string{"config.json", "onnx/decoder_model_merged.onnx", "onnx/decoder_model_merged_quantized.onnx",
		"onnx/decoder_model.onnx", "onnx/decoder_with_past_model.onnx"}
	quantOnly := []string{"config.json", "model_q4.onnx", "model_fp16.onnx", "onnx/model_quantized.onnx", "onnx/model_int8.onnx"}
	cases := []struct {
		files   []string
		variant string
		path    string
		data    []string
		err     string
	}{
		{onnxCommunity, "", "onnx/model.onnx", []string{"onnx/model.onnx_data"}, ""},
		{onnxCommunity, "fp32", "onnx/model.onnx", []string{"onnx/model.onnx_data"}, ""},
		{onnxCommunity, "fp16", "onnx/model_fp16.onnx", []string{"onnx/model_fp16.onnx_data"}, ""},
		{onnxCommunity, "q4", "onnx/model_q4.onnx", nil, ""},
		{onnxCommunity, "model_q4f16", "onnx/model_q4f16.onnx", nil, ""},
		{onnxCommunity, "onnx/model_int8.onnx", "onnx/model_int8.onnx", nil, ""},
		{onnxCommunity, "bnb4", "", nil, "no ONNX variant \"bnb4\""},
		{merged, "", "onnx/decoder_model_merged.onnx", nil, ""},
		{merged, "quantized", "onnx/decoder_model_merged_quantized.onnx", nil, ""},
		{merged, "decoder_model", "onnx/decoder_model.onnx", nil, ""},
		{quantOnly, "", "", nil, "only quantized or reduced-precision"},
		{quantOnly, "fp16", "model_fp16.onnx", nil, ""},
		{quantOnly, "int8", "onnx/model_int8.onnx", nil, ""},
		{[]string{"model.onnx", "model.onnx.data", "onnx/model.onnx"}, "", "onnx/model.onnx", nil, ""},
		{[]string{"model.onnx", "model.onnx.data"}, "", "model.onnx", []string{"model.onnx.data"}, ""},
		{[]string{"config.json", "model.safetensors"}, "", "", nil, ""},
		{[]string{"config.json", "model.safetensors"}, "q4", "", nil, "ships no ONNX export"},
	}
	for _, c := range cases {
		got, err := ChooseONNX(c.files, c.variant)
		if c.err != "" {
			if !errors.Is(err, ErrVariant) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v %q: want error %q, got %v %v", c.files, c.variant, c.err, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v %q: %v", c.files, c.variant, err)
			continue
		}
		if c.path == "" {
			if got != nil {
				t.Errorf("%v: want no export, got %+v", c.files, got)
			}
			continue
		}
		if got == nil || got.Path != c.path || !slices.Equal(got.Data, c.data) {
			t.Errorf("%v %q: got %+v, want %s %v", c.files, c.variant, got, c.path, c.data)
		}
	}
	_, err := ChooseONNX(quantOnly, "")
	for _, name := range []string{"q4 (model_q4.onnx)", "fp16 (model_fp16.onnx)", "quantized (onnx/model_quantized.onnx)", "int8 (onnx/model_int8.onnx)"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error should list %s: %v", name, err)
		}
	}
}

func TestSelectVariantFetchesOnlyTheChosenExport(t *testing.T) {
	files := []string{"config.json", "tokenizer.json", "README.md", "onnx/model.onnx", "onnx/model.onnx_data",
		"onnx/model_q4.onnx", "onnx/model_q4.onnx_data", "model.safetensors", "onnx/config.json"}
	got, choice, err := SelectVariant(files, nil, nil, "q4")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"README.md", "config.json", "onnx/model_q4.onnx", "onnx/model_q4.onnx_data", "tokenizer.json"}
	if !slices.Equal(got, want) || choice.Variant != "q4" {
		t.Fatalf("got %v %+v, want %v", got, choice, want)
	}
	got, _, err = SelectVariant([]string{"config.json", "model.safetensors"}, nil, nil, "")
	if err != nil || !slices.Equal(got, []string{"config.json", "model.safetensors"}) {
		t.Fatalf("no export: %v %v", got, err)
	}
}
