package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// registryBinary builds axon-registry once per test run: the tests below run the
// real program as a separate process, as users and scripts do.
func registryBinary(t *testing.T) string {
	return testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon-registry")
}

func TestMain(m *testing.M) { testutil.Main(m) }

type registryProc struct {
	*testutil.Process
	Host string
}

func startRegistry(t *testing.T, env []string, args ...string) *registryProc {
	t.Helper()
	bin := registryBinary(t)
	host := testutil.FreeAddr(t)
	p := testutil.Start(t, env, bin, append([]string{"--addr", host, "--log-level", "warn"}, args...)...)
	testutil.WaitHTTP(t, "http://"+host+"/healthz", 30*time.Second)
	return &registryProc{Process: p, Host: host}
}

func TestVersionAndHelp(t *testing.T) {
	bin := registryBinary(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "axon-registry") {
		t.Fatalf("--version: %v %s", err, out)
	}
	out, err = exec.Command(bin, "--help").CombinedOutput()
	for _, flag := range []string{"--addr", "--root", "--storage", "--htpasswd", "--anonymous-read", "--max-manifest-size", "--ui"} {
		if err != nil || !strings.Contains(string(out), flag) {
			t.Fatalf("--help lacks %s: %v\n%s", flag, err, out)
		}
	}
	out, err = exec.Command(bin, "--storage", "ftp://nowhere").CombinedOutput()
	if err == nil || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
		t.Fatalf("a bad --storage must fail with one line: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"--max-manifest-size", "-5"}, {"--upload-ttl", "0s"}, {"--gc-grace", "-1h"}} {
		out, err := exec.Command(bin, append(bad, "--root", t.TempDir(), "--addr", "127.0.0.1:0")...).CombinedOutput()
		if err == nil || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 || !strings.Contains(string(out), bad[0]) {
			t.Fatalf("%v must fail with one line naming the flag: %v\n%s", bad, err, out)
		}
	}
	// a busy port is the one thing said, before anything else starts and logs
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	out, err = exec.Command(bin, "--addr", busy.Addr().String(), "--root", t.TempDir()).CombinedOutput()
	if err == nil || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 || !strings.Contains(string(out), "address already in use") {
		t.Fatalf("a busy --addr must fail with one line: %v\n%s", err, out)
	}
}

// randomFile writes size random bytes to path and returns their sha256 (hex).
func randomFile(t *testing.T, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.CopyN(f, rand.Reader, size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return fileSHA(t, path)
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

type oras struct {
	t   *testing.T
	bin string
	cfg string // --registry-config: each client its own credentials
}

func (o oras) run(dir string, stdin string, args ...string) (string, error) {
	args = append(args, "--registry-config", o.cfg)
	cmd := exec.Command(o.bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Dir(o.cfg))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (o oras) must(dir, stdin string, args ...string) string {
	o.t.Helper()
	out, err := o.run(dir, stdin, args...)
	if err != nil {
		o.t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func newOras(t *testing.T) oras {
	d := t.TempDir()
	return oras{t: t, bin: testutil.Tool(t, "oras"), cfg: filepath.Join(d, "config.json")}
}

// The oras CLI pushes and pulls through a registry without auth.
func TestOrasPushPull(t *testing.T) {
	reg := startRegistry(t, nil, "--root", t.TempDir())
	o := newOras(t)
	src := t.TempDir()
	sum := randomFile(t, filepath.Join(src, "model.onnx"), 20<<20)
	ref := reg.Host + "/hf/small-model:v1"
	o.must(src, "", "push", "--plain-http", "--artifact-type", "application/vnd.axon.model.v1", ref, "model.onnx")
	dst := t.TempDir()
	o.must(dst, "", "pull", "--plain-http", ref)
	if got := fileSHA(t, filepath.Join(dst, "model.onnx")); got != sum {
		t.Fatalf("pulled file differs: %s != %s", got, sum)
	}
}

// With --htpasswd: a wrong password is refused, `oras login` (token flow) works,
// a 200 MB artifact goes up authenticated and comes back anonymously with
// --anonymous-read, and an anonymous push is refused.
func TestOras200MBWithLoginAndAnonymousRead(t *testing.T) {
	pw := testutil.Htpasswd(t, "alice", "wonder-land-42")
	reg := startRegistry(t, nil, "--root", t.TempDir(), "--htpasswd", pw, "--anonymous-read")
	o := newOras(t)
	if out, err := o.run(t.TempDir(), "wrong", "login", "--plain-http", "-u", "alice", "--password-stdin", reg.Host); err == nil {
		t.Fatalf("login with a wrong password succeeded:\n%s", out)
	}
	o.must(t.TempDir(), "wonder-land-42", "login", "--plain-http", "-u", "alice", "--password-stdin", reg.Host)
	src := t.TempDir()
	sum := randomFile(t, filepath.Join(src, "model.onnx"), 200<<20)
	ref := reg.Host + "/team/big-model:v2"
	start := time.Now()
	o.must(src, "", "push", "--plain-http", "--artifact-type", "application/vnd.axon.model.v1", ref, "model.onnx")
	pushed := time.Since(start)

	anon := newOras(t)
	dst := t.TempDir()
	start = time.Now()
	anon.must(dst, "", "pull", "--plain-http", ref)
	t.Logf("oras: 200 MB push (logged in) %s, pull (anonymous) %s", pushed.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if got := fileSHA(t, filepath.Join(dst, "model.onnx")); got != sum {
		t.Fatalf("anonymous pull differs: %s != %s", got, sum)
	}
	os.WriteFile(filepath.Join(src, "small.txt"), []byte("anon"), 0o644)
	if out, err := anon.run(src, "", "push", "--plain-http", reg.Host+"/team/big-model:anon", "small.txt"); err == nil {
		t.Fatalf("anonymous push succeeded:\n%s", out)
	}
	// the registry's challenge names our token endpoint and the scope a push needs
	req, _ := http.NewRequest("POST", "http://"+reg.Host+"/v2/team/big-model/blobs/uploads/", bytes.NewReader(nil))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 || !strings.Contains(ch, `realm="http://`+reg.Host+`/token"`) || !strings.Contains(ch, `scope="repository:team/big-model:pull,push"`) {
		t.Fatalf("challenge: %d %q", resp.StatusCode, ch)
	}
}

// SIGTERM shuts the server down gracefully (exit 0); the web UI answers on / and
// sees what was pushed.
func TestUIAndGracefulShutdown(t *testing.T) {
	reg := startRegistry(t, nil, "--root", t.TempDir())
	o := newOras(t)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "README.md"), []byte("# hello"), 0o644)
	o.must(src, "", "push", "--plain-http", reg.Host+"/demo/ui-model:v1", "README.md")
	var body string
	for i := 0; i < 50; i++ { // the UI indexes pushes asynchronously
		resp, err := http.Get("http://" + reg.Host + "/api/repositories")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if resp.StatusCode == 200 && strings.Contains(body, "demo/ui-model") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, "demo/ui-model") {
		t.Fatalf("UI API does not list the pushed repository: %s", body)
	}
	if err := reg.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for reg.Cmd.ProcessState == nil {
			time.Sleep(20 * time.Millisecond)
		}
		done <- nil
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("no exit within 15s of SIGTERM")
	}
	if code := reg.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, reg.Output())
	}
}

// Misconfigured storage stops the program at once with one clear line, instead of
// a server that answers every request with a storage error; logs are readable.
func TestStorageCheckedAtStart(t *testing.T) {
	bin := registryBinary(t)
	s3 := testutil.StartS3(t)
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
			}
		}()
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	missing := strings.Replace(s3.URL(), s3.Bucket, "no-such-bucket", 1)
	if out, err := run(s3.Env(), "--addr", testutil.FreeAddr(t), "--storage", missing); err == nil || !strings.Contains(out, "does not exist") || strings.Contains(out, "\n") {
		t.Fatalf("missing bucket: %v\n%s", err, out)
	}
	wrong := append(s3.Env(), "AWS_SECRET_ACCESS_KEY=wrong")
	if out, err := run(wrong, "--addr", testutil.FreeAddr(t), "--storage", s3.URL()); err == nil || !strings.Contains(out, "AWS_SECRET_ACCESS_KEY") {
		t.Fatalf("wrong secret: %v\n%s", err, out)
	}
	// offline gc on a directory that is not there: an error, not an empty report
	if out, err := run(nil, "gc", "--root", filepath.Join(t.TempDir(), "typo")); err == nil || !strings.Contains(out, "no registry storage") {
		t.Fatalf("gc on a missing root: %v\n%s", err, out)
	}
	// on a real one it reports, with a readable duration
	root := t.TempDir()
	reg := startRegistry(t, s3.Env(), "--storage", s3.URL(), "--log-level", "info")
	if _, err := http.Get("http://" + reg.Host + "/v2/"); err != nil {
		t.Fatal(err)
	}
	if out, err := run(nil, "gc", "--root", root, "--dry-run"); err != nil || !strings.Contains(out, `"seconds"`) {
		t.Fatalf("gc: %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(reg.Output(), `"index ready"`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	found := false
	for _, line := range strings.Split(reg.Output(), "\n") {
		if strings.Contains(line, `"index ready"`) {
			found = true
			if !strings.Contains(line, `"took":"`) {
				t.Fatalf("durations in logs should read like 1.5ms: %s", line)
			}
		}
	}
	if !found {
		t.Fatalf("no index ready line in the log:\n%s", reg.Output())
	}
}
