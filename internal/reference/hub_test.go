package reference

import "testing"

func TestHubSpellings(t *testing.T) {
	cases := map[string]string{
		"hf://Qwen/Qwen3-0.6B":                 "hf/Qwen/Qwen3-0.6B",
		"hf.co/Qwen/Qwen3-0.6B@main":           "hf/Qwen/Qwen3-0.6B@main",
		"huggingface.co/google-bert/bert-base": "hf/google-bert/bert-base",
		"https://huggingface.co/gpt2/":         "hf/gpt2",
		"modelscope://qwen/Qwen3-0.6B":         "modelscope/qwen/Qwen3-0.6B",
		"ms://qwen/Qwen3-0.6B@master":          "modelscope/qwen/Qwen3-0.6B@master",
		"modelscope.cn/models/qwen/Qwen3-0.6B": "modelscope/qwen/Qwen3-0.6B",
	}
	for in, want := range cases {
		got, ok := HubSpelling(in)
		if !ok || got != want {
			t.Errorf("%s: got %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"hf/x/y", "localhost:5000/hf/x", "hf://", "ghcr.io/org/model:1"} {
		if got, ok := HubSpelling(in); ok {
			t.Errorf("%s: rewritten to %q", in, got)
		}
	}
	// The store's name for a package installed from hf.co/ORG/NAME, not a registry hf.co.
	r, err := Parse("hf.co/Qwen/Qwen3-0.6B@latest")
	if err != nil || r.IsRemote() || r.Repository != "hf/qwen/qwen3-0.6b" || r.Tag != "latest" {
		t.Fatalf("Parse: %+v %v", r, err)
	}
	if r, err := Parse("ms://qwen/Qwen3"); err != nil || r.Repository != "modelscope/qwen/qwen3" {
		t.Fatalf("Parse ms://: %+v %v", r, err)
	}
}
