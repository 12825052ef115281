package e2e

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
)

// TestInstallOCISafetensorsNative: a ModelPack, a KitOps ModelKit and a
// Docker Model Runner artifact holding safetensors weights (config.json,
// model.safetensors and tokenizer files of a tiny random checkpoint, laid
// out as modctl, kit and docker model package do), pushed to axon-registry,
// become axon packages through `axon install oci://REF` with a PATH that
// holds neither python3 nor docker (the native converter); each is pushed,
// registered with mlosd and answers the seed API.
func TestInstallOCISafetensorsNative(t *testing.T) {
	ctx := context.Background()
	registry := startRegistry(t, nil, "--root", t.TempDir())
	mlosd := startMLOSD(t)
	emptyPath := t.TempDir()
	e := &env{t: t, vars: []string{
		"AXON_HOME=" + t.TempDir(), "AXON_REGISTRY=" + registry, "MLOS_URL=" + mlosd,
		"PATH=" + emptyPath, "AXON_PYTHON=" + filepath.Join(emptyPath, "python3"),
	}}
	tokenizer := []string{"tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"}
	modelPack := func(d []digest.Digest) any {
		return map[string]any{
			"descriptor": map[string]any{"createdAt": "2025-01-01T00:00:00Z", "name": "acme/tiny-bert", "version": "1.0", "licenses": []string{"Apache-2.0"}},
			"config":     map[string]any{"architecture": "transformer", "format": "safetensors", "precision": "fp32"},
			"modelfs":    map[string]any{"type": "layers", "diffIds": d},
		}
	}
	mp := "application/vnd.cncf.model."
	kit := "application/vnd.kitops.modelkit."
	cases := []struct {
		name, arch string
		artifact   artifacttest.Artifact
	}{
		{"tiny-bert", "bert:seq", artifacttest.Artifact{ // modctl: weights raw, config files tarred
			ArtifactType: "application/vnd.cncf.model.manifest.v1+json", ConfigMediaType: "application/vnd.cncf.model.config.v1+json",
			ConfigForDiffIDs: modelPack,
			Layers: []artifacttest.Layer{
				{MediaType: mp + "weight.v1.raw", Paths: []string{"model.safetensors"}},
				{MediaType: mp + "weight.config.v1.raw", Paths: []string{"config.json"}},
				{MediaType: mp + "weight.config.v1.tar", Paths: tokenizer, Archive: "tar"},
				{MediaType: mp + "doc.v1.tar+gzip", Paths: []string{"README.md"}, Archive: "tar+gzip"},
			},
		}},
		{"tiny-llama", "llama", artifacttest.Artifact{ // kit: everything tar+gzip, named by the Kitfile
			ArtifactType: "application/vnd.kitops.modelkit.manifest.v1+json", ConfigMediaType: "application/vnd.kitops.modelkit.config.v1+json",
			NoFilepath: true, NoTitle: true,
			Config: map[string]any{
				"manifestVersion": "1.0.0",
				"package":         map[string]any{"name": "tiny-llama", "version": "1.0.0", "license": "Apache-2.0"},
				"model": map[string]any{"name": "tiny-llama", "path": "model.safetensors", "framework": "safetensors",
					"parts": []map[string]any{{"path": "config.json"}, {"path": "tokenizer.json", "type": "tokenizer"}}},
				"docs": []map[string]any{{"path": "README.md"}},
			},
			Layers: []artifacttest.Layer{
				{MediaType: kit + "model.v1.tar+gzip", Paths: []string{"model.safetensors"}, Archive: "tar+gzip"},
				{MediaType: kit + "modelpart.v1.tar+gzip", Paths: []string{"config.json"}, Archive: "tar+gzip"},
				{MediaType: kit + "modelpart.v1.tar+gzip", Paths: tokenizer, Archive: "tar+gzip"},
				{MediaType: kit + "docs.v1.tar+gzip", Paths: []string{"README.md"}, Archive: "tar+gzip"},
			},
		}},
		{"tiny-distilbert", "distilbert:seq", artifacttest.Artifact{ // docker model package --safetensors-dir
			ConfigMediaType: "application/vnd.docker.ai.model.config.v0.2+json",
			Config:          map[string]any{"config": map[string]any{"format": "safetensors", "architecture": "distilbert"}, "descriptor": map[string]any{"created": "2025-01-01T00:00:00Z"}},
			Layers: []artifacttest.Layer{
				{MediaType: "application/vnd.docker.ai.safetensors", Paths: []string{"model.safetensors"}},
				{MediaType: "application/vnd.docker.ai.vllm.config.tar", Paths: append([]string{"config.json"}, tokenizer...), Archive: "tar"},
				{MediaType: "application/vnd.docker.ai.license", Paths: []string{"README.md"}, Annotations: map[string]string{"org.cncf.model.filepath": "LICENSE"}},
			},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			src := t.TempDir()
			for _, f := range hubtest.SafetensorsRepo("acme/"+c.name, c.arch).Files {
				if err := os.WriteFile(filepath.Join(src, f.Path), f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			repo, err := remote.NewRepository(registry + "/acme/" + c.name)
			if err != nil {
				t.Fatal(err)
			}
			repo.PlainHTTP = true
			artifacttest.Push(t, ctx, repo, "1", src, c.artifact)
			ref := "acme/" + c.name + "@latest"
			out := e.axon("install", "oci://"+registry+"/acme/"+c.name+":1", "--name", "acme/"+c.name)
			// The same artifact installed elsewhere is the same package.
			again := e.withHome(t.TempDir()).axon("install", "oci://"+registry+"/acme/"+c.name+":1", "--name", "acme/"+c.name)
			if packageDigest(t, out) != packageDigest(t, again) {
				t.Fatalf("installing the artifact twice gave two packages:\n%s\n%s", out, again)
			}
			if !strings.Contains(out, "converted (native)") {
				t.Fatalf("install oci:// did not convert with the native converter:\n%s", out)
			}
			if inspect := e.axon("inspect", ref); !strings.Contains(inspect, "model.onnx") {
				t.Fatalf("the installed package holds no model.onnx:\n%s", inspect)
			}
			e.axon("push", ref)
			e.axon("register", ref)
			model := mlosd + "/models/acme/" + c.name + "/inference"
			if c.arch == "llama" {
				var ans struct {
					Output struct {
						GeneratedText string  `json:"generated_text"`
						TokenIDs      []int64 `json:"token_ids"`
					} `json:"output"`
				}
				params := map[string]any{"max_new_tokens": 6, "min_new_tokens": 6, "do_sample": false}
				httpJSON(t, "POST", model, map[string]any{"input": "hello world", "parameters": params}, &ans)
				if len(ans.Output.TokenIDs) != 6 || strings.TrimSpace(ans.Output.GeneratedText) == "" {
					t.Fatalf("generated %+v, want 6 tokens of text", ans.Output)
				}
				return
			}
			var seed seedAnswer
			httpJSON(t, "POST", model, map[string]any{"input": "Hello, MLOS!"}, &seed)
			sum := 0.0
			for _, o := range seed.Output {
				sum += o.Score
			}
			if len(seed.Output) != 2 || math.Abs(sum-1) > 1e-5 || (seed.Output[0].Label != "NEGATIVE" && seed.Output[0].Label != "POSITIVE") {
				t.Fatalf("seed answer %+v: want the two labels of id2label", seed)
			}
		})
	}
}

// withHome is the same user with another AXON_HOME.
func (e *env) withHome(home string) *env {
	vars := []string{"AXON_HOME=" + home}
	for _, v := range e.vars {
		if !strings.HasPrefix(v, "AXON_HOME=") {
			vars = append(vars, v)
		}
	}
	return &env{t: e.t, vars: vars}
}

// packageDigest is the package digest axon install printed.
func packageDigest(t *testing.T, out string) string {
	t.Helper()
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "sha256:") {
			return f
		}
	}
	t.Fatalf("no package digest in %q", out)
	return ""
}
