// Package e2e runs the seed workflow with the real binaries as separate processes:
// axon install from the Hugging Face replica, axon push to axon-registry, axon
// register, inference through the seed API and KServe v2; and the distributed shape,
// the registry on S3 (versitygw) with two mlosd instances pulling the same digest.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos/tokenizer"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "axon-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	cmd := exec.Command("go", "build", "-o", dir+"/", "../../cmd/...")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the programs: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func bin(name string) string { return filepath.Join(binDir, name) }

// env is a user's shell: one AXON_HOME, the hub endpoint, where the registry and mlosd are.
type env struct {
	t    *testing.T
	vars []string
}

func (e *env) axon(args ...string) string {
	e.t.Helper()
	cmd := exec.Command(bin("axon"), args...)
	cmd.Env = append(os.Environ(), e.vars...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("axon %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func startRegistry(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	addr := testutil.FreeAddr(t)
	testutil.Start(t, extraEnv, bin("axon-registry"), append([]string{"--addr", addr}, args...)...)
	testutil.WaitHTTP(t, "http://"+addr+"/v2/", 30*time.Second)
	return addr
}

func startMLOSD(t *testing.T) string {
	t.Helper()
	lib := testutil.ORTLibrary(t)
	addr := testutil.FreeAddr(t)
	testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + lib}, bin("mlosd"), "--addr", addr, "--data", t.TempDir())
	testutil.WaitHTTP(t, "http://"+addr+"/healthz", 30*time.Second)
	return "http://" + addr
}

func httpJSON(t *testing.T, method, url string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, raw)
		}
	}
}

func bertHub(t *testing.T) *hubtest.HF {
	h := hubtest.NewHF(t)
	h.MustPush(t, hubtest.HFRepo{
		ID: "google-bert/bert-base-uncased", Aliases: []string{"bert-base-uncased"},
		PipelineTag: "text-classification", LibraryName: "transformers", License: "apache-2.0",
		Files: hubtest.TinyBERT(),
	})
	return h
}

type seedAnswer struct {
	Output []struct {
		Label string  `json:"label"`
		Score float64 `json:"score"`
	} `json:"output"`
	Latency string `json:"latency"`
}

type v2Answer struct {
	ModelName string `json:"model_name"`
	ID        string `json:"id"`
	Outputs   []struct {
		Name     string    `json:"name"`
		Datatype string    `json:"datatype"`
		Shape    []int     `json:"shape"`
		Data     []float64 `json:"data"`
	} `json:"outputs"`
}

// The seed workflow of the README, step by step, as a user types it.
func TestSeedWorkflow(t *testing.T) {
	hub := bertHub(t)
	registry := startRegistry(t, nil, "--root", t.TempDir())
	mlosd := startMLOSD(t)
	e := &env{t: t, vars: []string{
		"AXON_HOME=" + t.TempDir(), "HF_ENDPOINT=" + hub.URL, "AXON_REGISTRY=" + registry, "MLOS_URL=" + mlosd,
	}}

	e.axon("install", "hf/bert-base-uncased@latest")
	inspect := e.axon("inspect", "hf/bert-base-uncased@latest")
	for _, in := range []string{"input_ids", "attention_mask", "token_type_ids"} {
		if !strings.Contains(inspect, in) {
			t.Errorf("axon inspect does not show input %s:\n%s", in, inspect)
		}
	}
	e.axon("push", "hf/bert-base-uncased@latest")
	e.axon("register", "hf/bert-base-uncased@latest")

	var info struct {
		Name, Ref, Digest, State string
	}
	httpJSON(t, "GET", mlosd+"/models/hf/bert-base-uncased", nil, &info)
	if !strings.HasPrefix(info.Ref, registry+"/hf/bert-base-uncased") || !strings.HasPrefix(info.Digest, "sha256:") {
		t.Errorf("mlosd registered %+v; want it pulled from %s by digest", info, registry)
	}

	var seed seedAnswer
	httpJSON(t, "POST", mlosd+"/models/hf/bert-base-uncased/inference", map[string]any{"input": "Hello, MLOS!"}, &seed)
	if len(seed.Output) != 2 || seed.Latency == "" {
		t.Fatalf("seed answer %+v: want two labels and a latency", seed)
	}
	scores := map[string]float64{}
	for _, o := range seed.Output {
		scores[o.Label] = o.Score
	}
	if math.Abs(scores["NEGATIVE"]+scores["POSITIVE"]-1) > 1e-5 {
		t.Errorf("scores %v do not sum to 1", scores)
	}

	// The same request through KServe v2, with the tokenizer run here: the logits'
	// softmax must equal the seed API's scores.
	tok, err := tokenizer.FromBytes(fileOf(t, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	enc := tok.Encode("Hello, MLOS!", true)
	n := len(enc.IDs)
	tensor := func(name string, v []int64) map[string]any {
		return map[string]any{"name": name, "datatype": "INT64", "shape": []int{1, n}, "data": v}
	}
	var v2 v2Answer
	httpJSON(t, "POST", mlosd+"/v2/models/hf/bert-base-uncased/infer", map[string]any{
		"id":     "e2e-1",
		"inputs": []any{tensor("input_ids", enc.IDs), tensor("attention_mask", enc.AttentionMask), tensor("token_type_ids", enc.TypeIDs)},
	}, &v2)
	if v2.ID != "e2e-1" || len(v2.Outputs) == 0 || len(v2.Outputs[0].Data) != 2 {
		t.Fatalf("v2 answer %+v", v2)
	}
	l := v2.Outputs[0].Data
	pos := 1 / (1 + math.Exp(l[0]-l[1]))
	if math.Abs(pos-scores["POSITIVE"]) > 1e-5 {
		t.Errorf("v2 logits %v give P(POSITIVE)=%g, the seed API said %g", l, pos, scores["POSITIVE"])
	}
}

func fileOf(t *testing.T, name string) []byte {
	for _, f := range hubtest.TinyBERT() {
		if f.Path == name {
			return f.Data
		}
	}
	t.Fatalf("tiny BERT has no %s", name)
	return nil
}

// The distributed shape: the registry on S3, two mlosd instances pulling the same digest.
func TestRegistryOnS3TwoRuntimes(t *testing.T) {
	s3 := testutil.StartS3(t)
	hub := bertHub(t)
	registry := startRegistry(t, s3.Env(), "--storage", s3.URL())
	e := &env{t: t, vars: []string{"AXON_HOME=" + t.TempDir(), "HF_ENDPOINT=" + hub.URL}}
	e.axon("install", "hf/bert-base-uncased@latest")
	target := registry + "/team/bert:1.0"
	e.axon("push", "hf/bert-base-uncased@latest", target)

	var answers []seedAnswer
	var digests []string
	for i := 0; i < 2; i++ {
		mlosd := startMLOSD(t)
		var info struct{ Name, Ref, Digest string }
		httpJSON(t, "POST", mlosd+"/models", map[string]any{"ref": target}, &info)
		if !strings.HasPrefix(info.Digest, "sha256:") {
			t.Fatalf("mlosd %d registered %+v; want the tag resolved to a digest", i, info)
		}
		digests = append(digests, info.Digest)
		var a seedAnswer
		httpJSON(t, "POST", mlosd+"/models/"+info.Name+"/inference", map[string]any{"input": "Hello, MLOS!"}, &a)
		answers = append(answers, a)
	}
	if digests[0] != digests[1] {
		t.Errorf("the two runtimes pulled different digests: %v", digests)
	}
	if len(answers[0].Output) == 0 || fmt.Sprint(answers[0].Output) != fmt.Sprint(answers[1].Output) {
		t.Errorf("the two runtimes answer differently: %+v vs %+v", answers[0], answers[1])
	}
	// The blobs are in the bucket, not on a local disk.
	var found bool
	filepath.WalkDir(s3.Dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(p, strings.TrimPrefix(digests[0], "sha256:")) {
			found = true
		}
		return nil
	})
	if !found {
		t.Errorf("manifest %s is not stored in the S3 bucket", digests[0])
	}
}
