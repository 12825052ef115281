package e2e

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters/hubtest"
)

// TestNativeConverterWithoutPython: `axon install hf/ORG/NAME@latest` of a
// safetensors-only repository of every architecture the native converter
// handles, with a PATH that holds neither python3 nor docker; each is then
// pushed, registered with mlosd and answers the seed API: labels, embeddings,
// token logits, or text generated with the KV cache.
func TestNativeConverterWithoutPython(t *testing.T) {
	hub := hubtest.NewHF(t)
	names := map[string]string{}
	for _, arch := range hubtest.SafetensorsArchs {
		name := "tiny-" + strings.ReplaceAll(arch, ":", "-")
		names[arch] = name
		hub.MustPush(t, hubtest.SafetensorsRepo("axon-test/"+name, arch))
	}
	registry := startRegistry(t, nil, "--root", t.TempDir())
	mlosd := startMLOSD(t)
	emptyPath := t.TempDir()
	e := &env{t: t, vars: []string{
		"AXON_HOME=" + t.TempDir(), "HF_ENDPOINT=" + hub.URL, "AXON_REGISTRY=" + registry, "MLOS_URL=" + mlosd,
		"PATH=" + emptyPath, "AXON_PYTHON=" + filepath.Join(emptyPath, "python3"),
	}}
	for _, arch := range hubtest.SafetensorsArchs {
		ref := "hf/axon-test/" + names[arch] + "@latest"
		t.Run(names[arch], func(t *testing.T) {
			e.t = t
			out := e.axon("install", ref)
			if !strings.Contains(out, "converted (native)") {
				t.Fatalf("install did not say it used the native converter:\n%s", out)
			}
			inspect := e.axon("inspect", ref)
			mt, head, _ := strings.Cut(arch, ":")
			if head == "" {
				for _, io := range []string{"past_key_values.1.value", "present.1.key", "position_ids", "logits"} {
					if !strings.Contains(inspect, io) {
						t.Fatalf("%s: inspect does not show %s:\n%s", mt, io, inspect)
					}
				}
			}
			e.axon("push", ref)
			e.axon("register", ref)
			model := mlosd + "/models/hf/axon-test/" + names[arch]
			switch head {
			case "": // a decoder: mlosd generates with the KV cache through the graph's past/present I/O
				var ans struct {
					Output struct {
						GeneratedText string  `json:"generated_text"`
						TokenIDs      []int64 `json:"token_ids"`
					} `json:"output"`
				}
				params := map[string]any{"max_new_tokens": 8, "min_new_tokens": 8, "do_sample": false}
				httpJSON(t, "POST", model+"/inference", map[string]any{"input": "hello world", "parameters": params}, &ans)
				if len(ans.Output.TokenIDs) != 8 || strings.TrimSpace(ans.Output.GeneratedText) == "" {
					t.Fatalf("%s generated %+v, want 8 tokens of text", mt, ans.Output)
				}
				for _, id := range ans.Output.TokenIDs {
					if id < 0 || id >= 51 {
						t.Fatalf("token %d outside the vocabulary", id)
					}
				}
			case "seq":
				var seed seedAnswer
				httpJSON(t, "POST", model+"/inference", map[string]any{"input": "Hello, MLOS!"}, &seed)
				sum := 0.0
				for _, o := range seed.Output {
					sum += o.Score
				}
				if len(seed.Output) != 2 || math.Abs(sum-1) > 1e-5 || (seed.Output[0].Label != "NEGATIVE" && seed.Output[0].Label != "POSITIVE") {
					t.Fatalf("seed answer %+v: want the two labels of id2label", seed)
				}
			case "base":
				var ans struct {
					Output []float64 `json:"output"`
				}
				httpJSON(t, "POST", model+"/inference", map[string]any{"input": "Hello, MLOS!"}, &ans)
				if len(ans.Output) != 32 {
					t.Fatalf("embedding of %d values, want 32", len(ans.Output))
				}
			case "tok":
				var ans struct {
					Output map[string]any `json:"output"`
				}
				httpJSON(t, "POST", model+"/inference", map[string]any{"input": "Hello, MLOS!"}, &ans)
				if _, ok := ans.Output["logits"]; !ok {
					t.Fatalf("token classification answered %+v", ans)
				}
			}
		})
	}
}
