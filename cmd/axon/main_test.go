package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// axonBin is the built axon, for the tests that must send it a signal.
func axonBin(t *testing.T) string {
	return testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon")
}

func TestMain(m *testing.M) { testutil.Main(m) }

type result struct {
	out, err string
	code     int
}

// cli runs axon in this process (New() through Main) with the environment
// variables env set (KEY=VALUE) and unset removed for the call, as the
// process environment of a separate axon would be.
func cli(t *testing.T, env, unset []string, stdin string, args ...string) result {
	t.Helper()
	type saved struct {
		val string
		ok  bool
	}
	old := map[string]saved{}
	keep := func(k string) {
		if _, done := old[k]; !done {
			v, ok := os.LookupEnv(k)
			old[k] = saved{v, ok}
		}
	}
	for _, k := range unset {
		keep(k)
		os.Unsetenv(k)
	}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		keep(k)
		os.Setenv(k, v)
	}
	defer func() {
		for k, s := range old {
			if s.ok {
				os.Setenv(k, s.val)
			} else {
				os.Unsetenv(k)
			}
		}
	}()
	var out, errb testutil.SyncBuffer
	code := Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return result{out.String(), errb.String(), code}
}

func axonCLI(t *testing.T, home string, stdin string, args ...string) result {
	t.Helper()
	return cli(t, []string{"AXON_HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, "docker")}, nil, stdin, args...)
}

func ok(t *testing.T, r result) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.out, r.err)
	}
	return r
}

func model(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := onnx.TinyMLP(4, 8, 2, 3).WriteFile(filepath.Join(dir, "model.onnx")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "labels.txt"), []byte("a\nb\n"), 0o644)
	return dir
}

func TestVerbs(t *testing.T) {
	home := t.TempDir()
	dir := model(t)
	r := ok(t, axonCLI(t, home, "", "pack", dir, "--name", "local/mlp", "--version", "0.1"))
	if !strings.HasPrefix(r.out, "local/mlp@0.1\tsha256:") {
		t.Fatalf("pack printed %q", r.out)
	}
	digest := strings.Fields(r.out)[1]
	ok(t, axonCLI(t, home, "", "tag", "local/mlp@0.1", "local/mlp@stable"))
	r = ok(t, axonCLI(t, home, "", "ls"))
	if !strings.Contains(r.out, "NAME") || !strings.Contains(r.out, "stable") || !strings.Contains(r.out, "onnx (opset") {
		t.Errorf("ls:\n%s", r.out)
	}
	// Columns line up, and a package without a source revision shows no
	// made-up creation date (its pinned epoch).
	lines := strings.Split(strings.TrimSpace(r.out), "\n")
	col := strings.Index(lines[0], "DIGEST")
	for _, l := range lines[1:] {
		if len(l) <= col || !strings.HasPrefix(l[col:], "sha256:") {
			t.Errorf("ls: DIGEST column not aligned:\n%s", r.out)
		}
		if !strings.HasSuffix(l, " -") || strings.Contains(l, "1970") {
			t.Errorf("ls: CREATED of a package without a source date: %q", l)
		}
	}
	var entries []map[string]any
	if err := json.Unmarshal([]byte(ok(t, axonCLI(t, home, "", "ls", "--json")).out), &entries); err != nil || len(entries) != 2 {
		t.Fatalf("ls --json: %v %v", entries, err)
	}
	if r := ok(t, axonCLI(t, home, "", "ls", "local/mlp")); strings.Count(r.out, "local/mlp") != 2 {
		t.Errorf("ls local/mlp:\n%s", r.out)
	}
	if r := ok(t, axonCLI(t, home, "", "ls", "local/other")); strings.TrimSpace(r.out) != "NAME  VERSION  DIGEST  SIZE  FORMAT  TASK  CREATED" {
		t.Errorf("ls of a name not stored:\n%s", r.out)
	}
	var insp map[string]any
	if err := json.Unmarshal([]byte(ok(t, axonCLI(t, home, "", "inspect", "--json", "local/mlp@stable")).out), &insp); err != nil || insp["digest"] != digest {
		t.Fatalf("inspect --json: %v %v", insp, err)
	}
	if rs, isList := insp["remotes"].([]any); !isList || len(rs) != 0 {
		t.Errorf("inspect --json of a never-pushed package: remotes %#v, want []", insp["remotes"])
	}
	r = ok(t, axonCLI(t, home, "", "inspect", "local/mlp@0.1"))
	if !strings.Contains(r.out, "apiVersion: axon.mlos.dev/v1") || !strings.Contains(r.out, "application/vnd.axon.model.v1") {
		t.Errorf("inspect:\n%s", r.out)
	}
	out := filepath.Join(t.TempDir(), "x")
	ok(t, axonCLI(t, home, "", "export", "local/mlp@stable", out))
	for _, f := range []string{"model.onnx", "labels.txt", "manifest.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("export: %v", err)
		}
	}
	reg := testutil.StartDistribution(t)
	r = ok(t, axonCLI(t, home, "", "push", "local/mlp@0.1", reg))
	if strings.TrimSpace(r.out) != reg+"/local/mlp:0.1@"+digest {
		t.Errorf("push printed %q", r.out)
	}
	// rm goes on past a reference it cannot remove, and says which failed.
	r = axonCLI(t, home, "", "rm", "local/mlp@0.1", "local/absent@1", "local/mlp@stable")
	if r.code == 0 || r.out != "removed local/mlp@0.1\nremoved local/mlp@stable\n" || !strings.Contains(r.err, "rm local/absent@1: no such package") {
		t.Errorf("rm with one absent reference: exit %d, out %q, err %q", r.code, r.out, r.err)
	}
	r = ok(t, axonCLI(t, home, "", "inspect", reg+"/local/mlp:0.1"))
	if !strings.Contains(r.out, "(registry)") || !strings.Contains(r.out, digest) || !strings.Contains(r.out, "name: mlp") {
		t.Errorf("inspect from the registry:\n%s", r.out)
	}
	ok(t, axonCLI(t, home, "", "prune"))
	r = ok(t, axonCLI(t, home, "", "pull", "-q", reg+"/local/mlp:0.1"))
	if !strings.HasSuffix(strings.TrimSpace(r.out), digest) {
		t.Errorf("pull printed %q", r.out)
	}
	// By digest: printed once, not REF@DIGEST@DIGEST.
	r = ok(t, axonCLI(t, home, "", "pull", "-q", reg+"/local/mlp@"+digest))
	if strings.TrimSpace(r.out) != reg+"/local/mlp@"+digest {
		t.Errorf("pull by digest printed %q", r.out)
	}
	r = ok(t, axonCLI(t, home, "", "inspect", reg+"/local/mlp:0.1"))
	if !strings.Contains(r.out, "# in registry: "+reg+"/local/mlp\n") {
		t.Errorf("inspect after pull does not name the registry:\n%s", r.out)
	}
	// A damaged blob in the store: export says so and how to recover.
	blobs, _ := filepath.Glob(filepath.Join(home, "blobs", "sha256", "*"))
	for _, b := range blobs {
		if data, _ := os.ReadFile(b); len(data) > 0 && !strings.HasPrefix(string(data), "{") && !strings.Contains(string(data), "apiVersion") {
			os.Chmod(b, 0o644)
			data[len(data)/2] ^= 0xff
			os.WriteFile(b, data, 0o644)
			break
		}
	}
	r = axonCLI(t, home, "", "export", reg+"/local/mlp:0.1", t.TempDir())
	if r.code == 0 || !strings.Contains(r.err, "in the local store is damaged") || !strings.Contains(r.err, "axon rm") {
		t.Errorf("export of a damaged package: exit %d, %q", r.code, r.err)
	}
	ok(t, axonCLI(t, home, "", "rm", reg+"/local/mlp:0.1", reg+"/local/mlp@"+digest))
	ok(t, axonCLI(t, home, "", "pull", "-q", reg+"/local/mlp:0.1"))
	ok(t, axonCLI(t, home, "", "export", reg+"/local/mlp:0.1", t.TempDir()))
	// Without a terminal the progress is plain lines.
	r = ok(t, axonCLI(t, t.TempDir(), "", "pull", reg+"/local/mlp:0.1"))
	if !strings.Contains(r.err, "pulled       model.onnx") {
		t.Errorf("pull progress: %q", r.err)
	}
	r = ok(t, axonCLI(t, home, "", "--version"))
	if !strings.HasPrefix(r.out, "axon ") {
		t.Errorf("--version: %q", r.out)
	}
	r = ok(t, axonCLI(t, home, "", "--help"))
	for _, verb := range []string{"pack", "push", "pull", "tag", "ls", "inspect", "rm", "prune", "export", "login", "logout"} {
		if !strings.Contains(r.out, "  "+verb+" ") {
			t.Errorf("--help does not list %s", verb)
		}
	}
}

// Bad input: one clear line on stderr, exit non-zero, nothing in the store.
func TestBadInput(t *testing.T) {
	home := t.TempDir()
	dir := model(t)
	bad := model(t)
	os.WriteFile(filepath.Join(bad, "manifest.yaml"), []byte("io:\n  inputs: [{name: x, dtype: float32, shape: [batch, true]}]\n"), 0o644)
	mismatch := model(t)
	os.WriteFile(filepath.Join(mismatch, "manifest.yaml"), []byte("io:\n  inputs: [{name: x, dtype: int64, shape: [batch, 4]}]\n  outputs: [{name: y, dtype: float32, shape: [batch, 2]}]\n"), 0o644)
	esc := model(t)
	os.Symlink("/etc/hostname", filepath.Join(esc, "host"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pack", dir, "--name", "Bad Name"}, "--name"},
		{[]string{"pack", dir, "--name", "a/b", "--version", "../x"}, "--version"},
		{[]string{"pack", t.TempDir(), "--name", "a/b"}, "no model.onnx"},
		{[]string{"pack", bad, "--name", "a/b"}, "io.inputs[0].shape[1]"},
		{[]string{"pack", mismatch, "--name", "a/b"}, "io.inputs[0].dtype: int64, but model.onnx has float32"},
		{[]string{"pack", esc, "--name", "a/b"}, "symlink leaves the package directory"},
		{[]string{"pack", dir, "--name", "a/b", "--whole-dir", "nope"}, `whole directory "nope": no such directory`},
		{[]string{"pack", "/no/such/dir", "--name", "a/b"}, "/no/such/dir"},
		{[]string{"inspect", "hf/absent@1"}, "no such package"},
		{[]string{"inspect", "::bad::"}, "invalid reference"},
		{[]string{"push", "hf/absent@1"}, "no such package"},
		{[]string{"pull", "hf/Bert@1"}, "invalid reference"},
		{[]string{"pull", "localhost:1/a/b:1"}, "cannot reach the registry"},
		{[]string{"tag", "hf/absent@1", "a/b@2"}, "no such package"},
		{[]string{"export", "hf/absent@1", t.TempDir()}, "no such package"},
		{[]string{"login", "localhost:1", "-u", "x", "--password-stdin"}, "login localhost:1"},
		{[]string{"login", "localhost:1", "--password-stdin"}, "login: give the user name with --username (-u)"},
		{[]string{"login", "localhost:1", "-u", "x"}, "login: no terminal to ask for the password"},
		{[]string{"install", "--concurrency", "2", "npm/left-pad"}, `unknown hub "npm"`},
		{[]string{"install", "--parallel", "2", "npm/left-pad"}, `unknown hub "npm"`}, // the old flag name still works
		{[]string{"nosuchverb"}, "unknown command \"nosuchverb\" for \"axon\" (see axon --help)"},
		{[]string{"pack"}, "pack: accepts 1 arg(s), received 0; usage: axon pack DIR"},
		{[]string{"tag", "a/b@1"}, "usage: axon tag SRC DST"},
		{[]string{"ls", "a/b", "extra"}, "usage: axon ls [REPOSITORY]"},
		{[]string{"pull", "--nosuchflag", "a/b@1"}, "pull: unknown flag: --nosuchflag (see axon pull --help)"},
		{[]string{"push", "hf/absent@1", "http://localhost:5000/a/b:1"}, "no such package"},
		{[]string{"pull", "http://localhost:5000/a/b:1"}, "without http://"},
		{[]string{"pack", filepath.Join(dir, "model.onnx"), "--name", "a/b"}, "give the directory that holds model.onnx"},
	} {
		r := axonCLI(t, home, "pw\n", tc.args...)
		if r.code == 0 {
			t.Errorf("axon %v: exit 0", tc.args)
			continue
		}
		line := strings.TrimSpace(r.err)
		if strings.Count(line, "\n") != 0 || !strings.HasPrefix(line, "axon: ") || !strings.Contains(line, tc.want) {
			t.Errorf("axon %v: stderr %q, want one line mentioning %q", tc.args, r.err, tc.want)
		}
	}
	t.Setenv("AXON_REGISTRY", "localhost:1")
	if r := axonCLI(t, home, "", "pull", "hf/absent@1"); r.code == 0 || !strings.Contains(r.err, "a package name is pulled from $AXON_REGISTRY, now localhost:1; set it to your registry") {
		t.Errorf("pull of a package name with no registry up: exit %d, %q", r.code, r.err)
	}
	ok(t, axonCLI(t, home, "", "pack", dir, "--name", "a/b"))
	if r := axonCLI(t, home, "", "push", "a/b"); r.code == 0 || !strings.Contains(r.err, "without TARGET, packages go to $AXON_REGISTRY, now localhost:1") {
		t.Errorf("push with no target and no registry up: exit %d, %q", r.code, r.err)
	}
	ok(t, axonCLI(t, home, "", "rm", "a/b"))
	if r := axonCLI(t, home, "", "login", "localhost:1", "-u", "x", "--password-stdin"); r.code == 0 || !strings.Contains(r.err, "--password-stdin read an empty password") {
		t.Errorf("login with an empty stdin: exit %d, %q", r.code, r.err)
	}
	r := ok(t, axonCLI(t, home, "", "ls", "--json"))
	if strings.TrimSpace(r.out) != "[]" {
		t.Errorf("store not empty after bad input: %s", r.out)
	}
}

// Ctrl-C during a transfer: exit 130 (as shells expect of SIGINT) with one
// line that says how to go on, not the I/O layer's wording.
func TestInterrupt(t *testing.T) {
	asked := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case asked <- struct{}{}:
		default:
		}
		<-r.Context().Done() // a registry or hub that never answers
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"pull", host + "/hf/slow:1"}, "axon: pull " + host + "/hf/slow:1: interrupted; run the same pull again to resume"},
		{[]string{"install", "hf/acme/slow"}, "axon: install hf/acme/slow: interrupted; run it again to continue"},
	} {
		home := t.TempDir()
		cmd := exec.Command(axonBin(t), tc.args...)
		cmd.Env = append(os.Environ(), "AXON_HOME="+home, "DOCKER_CONFIG="+filepath.Join(home, "docker"), "HF_ENDPOINT="+srv.URL)
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-asked:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("axon %v never reached the server", tc.args)
		}
		cmd.Process.Signal(os.Interrupt)
		err := cmd.Wait()
		ee, isExit := err.(*exec.ExitError)
		if !isExit || ee.ExitCode() != 130 {
			t.Errorf("axon %v: exit after ctrl-C: %v, want 130", tc.args, err)
		}
		line := strings.TrimSpace(errb.String())
		if strings.Count(line, "\n") != 0 || !strings.HasPrefix(line, tc.want) {
			t.Errorf("axon %v: stderr after ctrl-C: %q, want %q", tc.args, errb.String(), tc.want)
		}
	}
}

// Ctrl-C while packing a big directory: exit 130, nothing tagged, one line.
func TestInterruptPack(t *testing.T) {
	dir := model(t)
	// Sparse: 8 GiB to hash, no disk used; the pack cannot be done in time.
	f, err := os.Create(filepath.Join(dir, "weights.bin"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(8 << 30)
	f.Close()
	home := t.TempDir()
	cmd := exec.Command(axonBin(t), "pack", dir, "--name", "a/big")
	cmd.Env = append(os.Environ(), "AXON_HOME="+home)
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Signal once the store is open (the handler is set by then), mid-hash.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(home, "oci-layout")); err == nil || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	if ee, isExit := err.(*exec.ExitError); !isExit || ee.ExitCode() != 130 {
		t.Fatalf("exit after ctrl-C: %v (%s), want 130", err, errb.String())
	}
	if line := strings.TrimSpace(errb.String()); line != "axon: pack "+dir+": interrupted; nothing was tagged (axon prune clears what was stored)" {
		t.Errorf("stderr after ctrl-C: %q", errb.String())
	}
	if r := ok(t, axonCLI(t, home, "", "ls", "--json")); strings.TrimSpace(r.out) != "[]" {
		t.Errorf("an interrupted pack left a tag: %s", r.out)
	}
}
