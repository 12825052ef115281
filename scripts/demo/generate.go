package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// generate is the text-generation part of the demo: a tiny llama-like
// decoder with a KV cache, exported by torch with optimum's input and output
// names (mlos/testdata/make_decoder.py, random weights, so the text is
// gibberish), with a real tokenizer.json and a chat template, installed,
// pushed and registered like any package, then streamed over the seed API
// and asked through the OpenAI API. Skipped (saying so) without a python3
// that imports torch and onnx.
func (d *demo) generate(ctx context.Context, root, regAddr, mlosAddr string) error {
	py := testutil.FindPython("torch", "onnx")
	if py == "" {
		fmt.Println("==> text generation: skipped (needs a python3 with torch and onnx, e.g. Debian python3-torch python3-onnx)")
		return nil
	}
	src := filepath.Join(filepath.Dir(d.bin), "tiny-decoder-src")
	pkg := filepath.Join(filepath.Dir(d.bin), "tiny-decoder")
	if err := d.step("torch: export a tiny KV-cache decoder with random weights, so its text is noise (mlos/testdata/make_decoder.py)", func() (string, error) {
		if err := os.MkdirAll(pkg, 0o755); err != nil {
			return "", err
		}
		prompts := filepath.Join(filepath.Dir(d.bin), "prompts.json")
		if err := os.WriteFile(prompts, []byte("[[1]]"), 0o644); err != nil {
			return "", err
		}
		out, err := exec.CommandContext(ctx, py, filepath.Join(root, "mlos", "testdata", "make_decoder.py"), src, prompts).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%w\n%s", err, out)
		}
		tok, err := gunzip(filepath.Join(root, "mlos", "tokenizer", "testdata", "llama-bpe-bytefallback.json.gz"))
		if err != nil {
			return "", err
		}
		model, err := os.ReadFile(filepath.Join(src, "cache.onnx"))
		if err != nil {
			return "", err
		}
		cfg, err := os.ReadFile(filepath.Join(src, "config.json"))
		if err != nil {
			return "", err
		}
		tcfg, _ := json.Marshal(map[string]any{"bos_token": "<s>", "eos_token": "</s>",
			"chat_template": "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"})
		for name, b := range map[string][]byte{"model.onnx": model, "config.json": cfg, "tokenizer.json": tok, "tokenizer_config.json": tcfg} {
			if err := os.WriteFile(filepath.Join(pkg, name), b, 0o644); err != nil {
				return "", err
			}
		}
		return "inputs input_ids, attention_mask, position_ids, past_key_values.{0,1}.{key,value} → logits, present.*", nil
	}); err != nil {
		return err
	}
	const ref = "examples/tiny-decoder@latest"
	target := regAddr + "/examples/tiny-decoder:latest"
	for _, args := range [][]string{{"install", pkg, "--name", "examples/tiny-decoder"}, {"push", ref, target}, {"register", ref}} {
		if err := d.step("axon "+strings.Join(args, " "), func() (string, error) { return d.axon(ctx, args...) }); err != nil {
			return err
		}
	}
	url := "http://" + mlosAddr + "/models/examples/tiny-decoder/inference"
	body := `{"input":"Hello","stream":true,"parameters":{"max_new_tokens":8,"temperature":0.8,"seed":42}}`
	if err := d.step("curl -N -X POST "+url+" -d '"+body+"'   (Server-Sent Events, one per token)", func() (string, error) {
		return postStream(ctx, url, body)
	}); err != nil {
		return err
	}
	v1 := "http://" + mlosAddr + "/v1/chat/completions"
	chat := `{"model":"examples/tiny-decoder","messages":[{"role":"user","content":"Hello!"}],"max_tokens":8,"temperature":0}`
	return d.step("OpenAI API: curl "+v1+" -d '"+chat+"'", func() (string, error) {
		return post(ctx, v1, chat)
	})
}

func gunzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// postStream answers the data lines of an event stream.
func postStream(ctx context.Context, url, body string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	var out strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			out.WriteString(sc.Text() + "\n")
		}
	}
	return out.String(), sc.Err()
}
