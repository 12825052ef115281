package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/client"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

func build(t *testing.T) string {
	t.Helper()
	return testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd")
}

func startMlosd(t *testing.T, bin, data string) (*testutil.Process, string) {
	t.Helper()
	return startReady(t, bin, "--data", data, "--max-batch-size", "8", "--allow-layout", os.TempDir())
}

// startReady starts mlosd with args on a free address and waits until it is
// ready (every declared model loaded); it returns the process and its URL.
func startReady(t *testing.T, bin string, args ...string) (*testutil.Process, string) {
	t.Helper()
	addr := testutil.FreeAddr(t)
	p := testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t)}, bin, append([]string{"--addr", addr}, args...)...)
	base := "http://" + addr
	testutil.WaitOK(t, base+"/v2/health/ready", 60*time.Second)
	return p, base
}

func stop(t *testing.T, p *testutil.Process, base string) {
	t.Helper()
	if err := p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("mlosd did not stop on SIGTERM")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countingProxy sits in front of the registry and counts manifest and blob fetches.
type countingProxy struct {
	host             string
	manifests, blobs atomic.Int64
}

func newProxy(t *testing.T, registry string) *countingProxy {
	u, _ := url.Parse("http://" + registry)
	rp := httputil.NewSingleHostReverseProxy(u)
	cp := &countingProxy{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			switch {
			case strings.Contains(r.URL.Path, "/manifests/"):
				cp.manifests.Add(1)
			case strings.Contains(r.URL.Path, "/blobs/"):
				cp.blobs.Add(1)
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	cp.host = strings.TrimPrefix(ts.URL, "http://")
	return cp
}

func postJSON(t *testing.T, url string, v any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// TestEndToEnd: a package pushed to CNCF Distribution, registered by tag,
// pulled by digest, served through both APIs, cached, restored after a
// restart; and a package read from an OCI layout with no registry.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry and mlosd")
	}
	bin := build(t)
	fixture, ref := mlostest.BertFixture(t)
	cls, _, _ := mlostest.TextPackages(t, fixture)
	reg := testutil.StartDistribution(t)
	desc := cls.PushRemote(t, reg, "models/bert-cls", "v1")
	proxy := newProxy(t, reg)

	data := t.TempDir()
	p, base := startMlosd(t, bin, data)
	cl := client.New(base)
	ctx := context.Background()

	info, err := cl.Register(ctx, proxy.host+"/models/bert-cls:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "test/bert-cls" || info.Digest != desc.Digest.String() || info.State != mlos.StateReady {
		t.Fatalf("registered %+v, want test/bert-cls at %s", info, desc.Digest)
	}
	blobs, manifests := proxy.blobs.Load(), proxy.manifests.Load()
	if blobs < 4 {
		t.Fatalf("%d blob fetches for a 4-blob package", blobs)
	}

	// Seed API with text: labels and scores as torch computed them.
	res, err := cl.Infer(ctx, "test/bert-cls", ref.Sentences[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	var labels []mlos.Label
	if err := json.Unmarshal(res.Output, &labels); err != nil {
		t.Fatalf("output %s: %v", res.Output, err)
	}
	for _, l := range labels {
		for j, name := range ref.Labels {
			if l.Label == name && math.Abs(l.Score-ref.Probs[1][j]) > 1e-4 {
				t.Fatalf("%s = %v, torch says %v", name, l.Score, ref.Probs[1][j])
			}
		}
	}

	// A list of texts answers a list.
	res, err = cl.Infer(ctx, "test/bert-cls", []string{ref.Sentences[0], ref.Sentences[1]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var many [][]mlos.Label
	if err := json.Unmarshal(res.Output, &many); err != nil || len(many) != 2 || len(many[1]) != len(ref.Labels) {
		t.Fatalf("two texts gave %s: %v", res.Output, err)
	}

	// KServe v2 with the token ids: logits whose softmax matches torch.
	ids := ref.IDs[1]
	ones, zeros := make([]int64, len(ids)), make([]int64, len(ids))
	for i := range ones {
		ones[i] = 1
	}
	code, body := postJSON(t, base+"/v2/models/test/bert-cls/infer", map[string]any{
		"id": "e2e",
		"inputs": []any{
			map[string]any{"name": "input_ids", "shape": []int{1, len(ids)}, "datatype": "INT64", "data": ids},
			map[string]any{"name": "attention_mask", "shape": []int{1, len(ids)}, "datatype": "INT64", "data": ones},
			map[string]any{"name": "token_type_ids", "shape": []int{1, len(ids)}, "datatype": "INT64", "data": zeros},
		},
		"outputs": []any{map[string]any{"name": "logits"}},
	})
	if code != 200 {
		t.Fatalf("v2 infer: %d %s", code, body)
	}
	var v2 struct {
		ID      string `json:"id"`
		Outputs []struct {
			Name string    `json:"name"`
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(body, &v2); err != nil || v2.ID != "e2e" || len(v2.Outputs) != 1 {
		t.Fatalf("v2 answer %s: %v", body, err)
	}
	for j, p := range mlos.Softmax(v2.Outputs[0].Data) {
		if math.Abs(p-ref.Probs[1][j]) > 1e-4 {
			t.Fatalf("v2 probabilities %v, torch %v", mlos.Softmax(v2.Outputs[0].Data), ref.Probs[1])
		}
	}

	// An id past the vocabulary fails inside ONNX Runtime: a 422 that says so,
	// and no second, ANSI-coloured copy of the error from ORT's own logger.
	bad := append([]int64{}, ids...)
	bad[1] = 1 << 40
	code, body = postJSON(t, base+"/v2/models/test/bert-cls/infer", map[string]any{
		"inputs": []any{
			map[string]any{"name": "input_ids", "shape": []int{1, len(ids)}, "datatype": "INT64", "data": bad},
			map[string]any{"name": "attention_mask", "shape": []int{1, len(ids)}, "datatype": "INT64", "data": ones},
			map[string]any{"name": "token_type_ids", "shape": []int{1, len(ids)}, "datatype": "INT64", "data": zeros},
		},
	})
	if code != 422 || !strings.Contains(string(body), "could not run on this input") {
		t.Fatalf("out-of-range id: %d %s", code, body)
	}
	if out := p.Output(); strings.Contains(out, "onnxruntime:") {
		t.Fatalf("ONNX Runtime logged on its own:\n%s", out)
	}

	// The same digest again downloads nothing.
	if _, err := cl.Register(ctx, proxy.host+"/models/bert-cls@"+desc.Digest.String(), "again/bert"); err != nil {
		t.Fatal(err)
	}
	if b, m := proxy.blobs.Load(), proxy.manifests.Load(); b != blobs || m != manifests {
		t.Fatalf("registering a cached digest fetched %d blobs and %d manifests", b-blobs, m-manifests)
	}

	// No registry: an OCI layout on disk.
	layout := t.TempDir()
	affine := mlostest.Package{Namespace: "test", Name: "affine", Version: "2", Model: mlostest.AffineModel(t)}
	adesc := affine.Layout(t, layout, "v2")
	if info, err := cl.Register(ctx, "oci-layout://"+layout+":v2", ""); err != nil || info.Digest != adesc.Digest.String() {
		t.Fatalf("layout register: %+v %v", info, err)
	}

	// Restart: every registration comes back, from the cache.
	stop(t, p, base)
	_, base = startMlosd(t, bin, data)
	cl = client.New(base)
	list, err := cl.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("after restart: %+v", list)
	}
	for _, m := range list {
		if m.State != mlos.StateReady {
			t.Fatalf("%s is %s after restart: %s", m.Name, m.State, m.Error)
		}
	}
	if _, err := cl.Infer(ctx, "again/bert", "I love it!", nil); err != nil {
		t.Fatal(err)
	}
	code, body = postJSON(t, base+"/v2/models/test/affine/versions/2/infer", map[string]any{
		"inputs": []any{map[string]any{"name": "x", "shape": []int{1, 3}, "datatype": "FP32", "data": []float32{1, 2, 3}}},
	})
	want := mlostest.AffineRef([3]float32{1, 2, 3})
	if code != 200 || !strings.Contains(string(body), `"data":[`) {
		t.Fatalf("v2 after restart: %d %s", code, body)
	}
	var av struct {
		Outputs []struct {
			Data []float64 `json:"data"`
		} `json:"outputs"`
	}
	json.Unmarshal(body, &av)
	if math.Abs(av.Outputs[0].Data[0]-float64(want[0])) > 1e-5 || math.Abs(av.Outputs[0].Data[1]-float64(want[1])) > 1e-5 {
		t.Fatalf("affine after restart %v, want %v", av.Outputs[0].Data, want)
	}
	if b, m := proxy.blobs.Load(), proxy.manifests.Load(); b != blobs || m != manifests {
		t.Fatalf("the restart fetched %d blobs and %d manifests; the cache should serve them", b-blobs, m-manifests)
	}
}

func TestMissingLibraryAndFlags(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin, "--data", t.TempDir())
	cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+filepath.Join(t.TempDir(), "libonnxruntime.so"))
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("missing library: %v\n%s", err, out)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "ONNX Runtime") {
		t.Fatalf("missing library should print one clear line, got:\n%s", out)
	}
	out, err = exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "mlosd ") {
		t.Fatalf("--version: %v %s", err, out)
	}
	out, err = exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-addr") || !strings.Contains(string(out), "-data") {
		t.Fatalf("--help: %v %s", err, out)
	}
	// Mistakes get one line that points at --help and exit 1; nothing starts.
	for _, args := range [][]string{{"--bogus"}, {"--addr"}, {"serve"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+testutil.ORTLibrary(t))
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 || !strings.Contains(string(out), "see mlosd --help") {
			t.Errorf("mlosd %v: %v, want exit 1 with one line pointing at --help:\n%s", args, err, out)
		}
	}
}
