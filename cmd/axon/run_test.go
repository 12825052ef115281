package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"oras.land/oras-go/v2/registry/remote"

	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// axonEnv runs axon with extra environment (and without $MLOS_URL unless given).
func axonEnv(t *testing.T, home string, env []string, stdin string, args ...string) result {
	t.Helper()
	env = append([]string{"AXON_HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, "docker")}, env...)
	return cli(t, env, []string{"MLOS_URL"}, stdin, args...)
}

func okEnv(t *testing.T, home string, env []string, stdin string, args ...string) result {
	t.Helper()
	r := axonEnv(t, home, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("axon %v: exit %d\n%s%s", args, r.code, r.out, r.err)
	}
	return r
}

// killStarted makes sure the mlosd axon run starts under home ends with the test.
func killStarted(t *testing.T, home string) {
	t.Cleanup(func() {
		if b, err := os.ReadFile(filepath.Join(home, "run", "mlosd.json")); err == nil {
			var s mlosdState
			if json.Unmarshal(b, &s) == nil && s.PID > 0 {
				syscall.Kill(s.PID, syscall.SIGKILL)
			}
		}
	})
}

// An empty store and no mlosd: axon run installs from the (replica) hub,
// starts an mlosd and answers; a second run reuses that mlosd and sends the
// hub nothing (it is not even reachable then); ps shows it, stop stops it.
func TestRunInstallsServesAndReuses(t *testing.T) {
	hub := hubtest.NewHF(t)
	hub.MustPush(t, hubtest.HFRepo{
		ID: "google-bert/bert-base-uncased", PipelineTag: "text-classification", LibraryName: "transformers", License: "apache-2.0",
		Files: hubtest.TinyBERT(),
	})
	home := t.TempDir()
	env := []string{"HF_ENDPOINT=" + hub.URL, "ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t), EnvMLOSD + "=" + testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd")}
	killStarted(t, home)
	ref := "hf/google-bert/bert-base-uncased@latest"
	r := okEnv(t, home, env, "", "run", ref, "Hello world")
	if !strings.Contains(r.err, "installed") || !strings.Contains(r.err, "started mlosd") {
		t.Fatalf("first run did not say it installed and started mlosd:\n%s", r.err)
	}
	var answer []map[string]any
	if err := json.Unmarshal([]byte(r.out), &answer); err != nil || len(answer) == 0 || answer[0]["label"] == nil {
		t.Fatalf("answer %q: %v", r.out, err)
	}
	b, err := os.ReadFile(filepath.Join(home, "run", "mlosd.json"))
	if err != nil {
		t.Fatal(err)
	}
	var first mlosdState
	json.Unmarshal(b, &first)

	// The hub is gone: a second run must not need it.
	env[0] = "HF_ENDPOINT=http://127.0.0.1:1"
	r = okEnv(t, home, env, "", "run", "--json", ref, "Hello again")
	if strings.Contains(r.err, "installed") || strings.Contains(r.err, "started mlosd") || !strings.Contains(r.err, "using mlosd at "+first.URL) {
		t.Fatalf("second run did not reuse the package and mlosd:\n%s", r.err)
	}
	var raw struct {
		Output json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal([]byte(r.out), &raw); err != nil || len(raw.Output) == 0 {
		t.Fatalf("--json answer %q: %v", r.out, err)
	}

	// With $MLOS_URL, that mlosd is used as given.
	r = okEnv(t, home, append(env, "MLOS_URL="+first.URL), "", "run", ref, "Third time")
	if strings.Contains(r.err, "started mlosd") || strings.Contains(r.err, "serving ") || !strings.Contains(r.out, "label") {
		t.Fatalf("run with $MLOS_URL: %s%s", r.out, r.err)
	}

	r = okEnv(t, home, env, "", "ps", "--json") // the mlosd axon run started, without naming it
	var ps struct {
		Models []struct{ Name, Digest string }
		MLOSD  *mlosdState
	}
	if err := json.Unmarshal([]byte(r.out), &ps); err != nil || ps.MLOSD == nil || ps.MLOSD.PID != first.PID || len(ps.Models) != 1 {
		t.Fatalf("ps --json: %s (%v)", r.out, err)
	}
	r = okEnv(t, home, env, "", "stop", ps.Models[0].Name)
	if !strings.Contains(r.out, "stopped "+ps.Models[0].Name) {
		t.Fatalf("stop NAME: %s", r.out)
	}
	r = okEnv(t, home, env, "", "ps", "--json")
	if strings.Contains(r.out, ps.Models[0].Digest) {
		t.Fatalf("still served after stop NAME: %s", r.out)
	}
	r = okEnv(t, home, env, "", "stop")
	if !strings.Contains(r.out, "stopped mlosd") {
		t.Fatalf("stop: %s", r.out)
	}
	if syscall.Kill(first.PID, 0) == nil {
		t.Fatal("mlosd still runs after axon stop")
	}
	if r := axonEnv(t, home, env, "", "stop"); r.code == 0 {
		t.Fatal("a second stop claimed to stop something")
	}
}

// pack/push --format modelpack from the CLI; inspect and export of what other
// tools publish; install oci:// of ONNX (converted as a local directory is)
// and of safetensors (handed to the converter).
func TestFormatsCLI(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	dir := t.TempDir()
	if err := onnx.TinyMLP(3, 4, 2, 1).WriteFile(filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	artifacttest.WriteFile(t, dir, "README.md", "# mlp\n")
	a := ok(t, axonCLI(t, home, "", "pack", dir, "--name", "team/mlp", "--version", "1", "--format", "modelpack"))
	b := ok(t, axonCLI(t, home, "", "pack", dir, "--name", "team/mlp", "--version", "1", "--format", "modelpack"))
	if strings.Fields(a.out)[1] != strings.Fields(b.out)[1] {
		t.Fatalf("packing twice: %s vs %s", a.out, b.out)
	}
	r := ok(t, axonCLI(t, home, "", "ls"))
	if !strings.Contains(r.out, "(ModelPack)") {
		t.Errorf("ls does not say the package is a ModelPack:\n%s", r.out)
	}
	r = ok(t, axonCLI(t, home, "", "inspect", "team/mlp@1"))
	for _, want := range []string{"format: ModelPack", "manifest.yaml (carried as a layer)", "model.onnx", "mlosd serves it:  yes"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("inspect does not show %q:\n%s", want, r.out)
		}
	}
	// Completion of local package names (cobra's __complete, what shells call).
	r = ok(t, axonCLI(t, home, "", "__complete", "inspect", "team/"))
	if !strings.Contains(r.out, "team/mlp@1") {
		t.Errorf("completion does not offer team/mlp@1:\n%s", r.out)
	}
	r = ok(t, axonCLI(t, home, "", "inspect", "--json", "team/mlp@1"))
	var ij map[string]any
	if json.Unmarshal([]byte(r.out), &ij); ij["format"] != "modelpack" {
		t.Errorf("inspect --json format %v", ij["format"])
	}
	if r := axonCLI(t, home, "", "pack", dir, "--name", "team/mlp", "--format", "tar"); r.code == 0 {
		t.Error("an unknown --format was accepted")
	}

	reg := testutil.StartDistribution(t)
	// A ModelKit with an ONNX model: install oci:// turns it into an axon package.
	kit, _ := artifacttest.ModelKit("mlp-kit")
	kit.Layers = []artifacttest.Layer{
		{MediaType: "application/vnd.kitops.modelkit.model.v1.tar+gzip", Paths: []string{"model.onnx"}, Archive: "tar+gzip"},
		{MediaType: "application/vnd.kitops.modelkit.docs.v1.tar+gzip", Paths: []string{"README.md"}, Archive: "tar+gzip"},
	}
	repo, _ := remote.NewRepository(reg + "/kits/mlp")
	repo.PlainHTTP = true
	artifacttest.Push(t, ctx, repo, "1", dir, kit)
	r = ok(t, axonCLI(t, home, "", "inspect", reg+"/kits/mlp:1"))
	if !strings.Contains(r.out, "format: KitOps ModelKit") {
		t.Errorf("inspect of a ModelKit in a registry:\n%s", r.out)
	}
	out := t.TempDir()
	r = ok(t, axonCLI(t, home, "", "pull", "--json", reg+"/kits/mlp:1"))
	var pj map[string]any
	if err := json.Unmarshal([]byte(r.out), &pj); err != nil || pj["digest"] == nil || pj["blobs"] == nil {
		t.Errorf("pull --json: %s (%v)", r.out, err)
	}
	ok(t, axonCLI(t, home, "", "export", reg+"/kits/mlp:1", out))
	artifacttest.SameTree(t, dir, out)
	// axon run of the ModelKit itself: mlosd serves its ONNX model.
	killStarted(t, home)
	env := []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t), EnvMLOSD + "=" + testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd")}
	r = okEnv(t, home, env, "", "run", "--json", reg+"/kits/mlp:1", "[[1,2,3]]")
	if !strings.Contains(r.out, `"y"`) {
		t.Fatalf("run of a ModelKit: %s%s", r.out, r.err)
	}
	okEnv(t, home, env, "", "stop")

	// --tls-verify=false is accepted as --insecure; a missing --ca-file is named.
	ok(t, axonCLI(t, home, "", "inspect", "--tls-verify=false", reg+"/kits/mlp:1"))
	if r := axonCLI(t, home, "", "pull", "--ca-file", filepath.Join(home, "none.pem"), reg+"/kits/mlp:1"); r.code == 0 || !strings.Contains(r.err, "--ca-file") {
		t.Errorf("pull with a missing --ca-file: %d %s", r.code, r.err)
	}

	r = ok(t, axonCLI(t, home, "", "install", "oci://"+reg+"/kits/mlp:1", "--name", "kits/mlp"))
	if !strings.Contains(r.out, "kits/mlp@") {
		t.Fatalf("install oci:// of a ModelKit: %s%s", r.out, r.err)
	}
	r = ok(t, axonCLI(t, home, "", "ls", "--json"))
	if !strings.Contains(r.out, `"kits/mlp"`) {
		t.Errorf("the installed package is not listed: %s", r.out)
	}

	// Safetensors (a Docker Model Runner v0.2 artifact): the files reach the
	// converter; whether it converts depends on the backend's Python stack.
	st := t.TempDir()
	artifacttest.WriteFile(t, st, "config.json", `{"architectures":["BertForSequenceClassification"],"model_type":"bert"}`)
	artifacttest.WriteFile(t, st, "model.safetensors", "\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
	dm := artifacttest.Artifact{
		ConfigMediaType: "application/vnd.docker.ai.model.config.v0.2+json",
		Config:          map[string]any{"config": map[string]any{"format": "safetensors"}, "descriptor": map[string]any{}},
		Layers: []artifacttest.Layer{
			{MediaType: "application/vnd.docker.ai.safetensors", Paths: []string{"model.safetensors"}},
			{MediaType: "application/vnd.docker.ai.model.file", Paths: []string{"config.json"}},
		},
	}
	repo, _ = remote.NewRepository(reg + "/dmr/bert")
	repo.PlainHTTP = true
	artifacttest.Push(t, ctx, repo, "1", st, dm)
	r = axonCLI(t, home, "", "install", "oci://"+reg+"/dmr/bert:1", "--converter", "local")
	t.Logf("install oci:// of safetensors: exit %d: %s%s", r.code, r.out, r.err)
	if r.code == 0 {
		return // a converter stack that can convert it: fine
	}
	if !strings.Contains(r.err, "Docker Model Runner artifact holding safetensors") || !strings.Contains(r.err, "convert") || strings.Contains(r.err, "not an axon model package") {
		t.Errorf("install oci:// did not hand the safetensors files on: %s", r.err)
	}
}
