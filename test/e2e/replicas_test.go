package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// TestRegistryReplicas: two axon-registry processes on one versitygw bucket, as
// the Helm chart runs them behind one Service. What the operator sees must not
// depend on the replica a request lands on: oras pushes to A and pulls from B; a
// chunked upload begun on A is finished on B; both UIs list every repository
// within the resync interval; a UI login on A is valid on B.
func TestRegistryReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts versitygw and two registries")
	}
	s3 := testutil.StartS3(t)
	user, pass := "ops", "replica-pass-1"
	pw := testutil.Htpasswd(t, user, pass)
	keys := t.TempDir()
	writeKey := func(name string) string {
		k := make([]byte, 32)
		rand.Read(k)
		p := filepath.Join(keys, name)
		// a Secret mounted as a file: hex with a trailing newline
		if err := os.WriteFile(p, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sessionKey, tokenKey := writeKey("session"), writeKey("token")
	args := []string{"--storage", s3.URL(), "--htpasswd", pw, "--session-key-file", sessionKey, "--token-key-file", tokenKey, "--ui-resync", "1s"}
	a := startRegistry(t, s3.Env(), args...)
	b := startRegistry(t, s3.Env(), args...)

	// oras: push to A, pull from B.
	orasBin := testutil.Tool(t, "oras")
	oras := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(orasBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("oras %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	src := t.TempDir()
	payload := make([]byte, 3<<20)
	rand.Read(payload)
	if err := os.WriteFile(filepath.Join(src, "model.onnx"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	oras(src, "push", "--plain-http", "-u", user, "-p", pass, "--artifact-type", "application/vnd.axon.model.v1", a+"/team/pushed-on-a:v1", "model.onnx")
	dst := t.TempDir()
	oras(dst, "pull", "--plain-http", "-u", user, "-p", pass, b+"/team/pushed-on-a:v1")
	if got, err := os.ReadFile(filepath.Join(dst, "model.onnx")); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("pulled from B: %v (%d bytes, want %d)", err, len(got), len(payload))
	}

	// A chunked upload begun on A, finished on B.
	do := func(method, u string, body []byte, hdr map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, u, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(user, pass)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	blob := make([]byte, 2<<20+12345)
	rand.Read(blob)
	sum := sha256.Sum256(blob)
	dgst := "sha256:" + hex.EncodeToString(sum[:])
	resp := do(http.MethodPost, "http://"+a+"/v2/team/chunked/blobs/uploads/", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload on A: %s", resp.Status)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Path == "" {
		t.Fatalf("upload Location %q: %v", resp.Header.Get("Location"), err)
	}
	onB := func(l *url.URL) string {
		u := *l
		u.Scheme, u.Host = "http", b
		return u.String()
	}
	onA := func(l *url.URL) string {
		u := *l
		u.Scheme, u.Host = "http", a
		return u.String()
	}
	half := len(blob) / 2
	resp = do(http.MethodPatch, onA(loc), blob[:half], map[string]string{"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("0-%d", half-1)})
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("first chunk on A: %s", resp.Status)
	}
	if l, err := url.Parse(resp.Header.Get("Location")); err == nil && l.Path != "" {
		loc = l
	}
	resp = do(http.MethodPatch, onB(loc), blob[half:], map[string]string{"Content-Type": "application/octet-stream", "Content-Range": fmt.Sprintf("%d-%d", half, len(blob)-1)})
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("second chunk on B: %s", resp.Status)
	}
	if l, err := url.Parse(resp.Header.Get("Location")); err == nil && l.Path != "" {
		loc = l
	}
	fin, _ := url.Parse(onB(loc))
	q := fin.Query()
	q.Set("digest", dgst)
	fin.RawQuery = q.Encode()
	resp = do(http.MethodPut, fin.String(), nil, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("finish upload on B: %s", resp.Status)
	}
	resp = do(http.MethodGet, "http://"+a+"/v2/team/chunked/blobs/"+dgst, nil, nil)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, blob) {
		t.Fatalf("blob finished on B, read on A: %s, %d bytes (want %d)", resp.Status, len(got), len(blob))
	}

	// Another repository pushed to B; both UIs list both within the resync interval.
	oras(src, "push", "--plain-http", "-u", user, "-p", pass, "--artifact-type", "application/vnd.axon.model.v1", b+"/team/pushed-on-b:v1", "model.onnx")

	// A UI login on A is a session on B.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = browser.PostForm("http://"+a+"/ui/login", url.Values{"user": {user}, "password": {pass}, "next": {"/ui/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("UI login on A: %s", resp.Status)
	}
	au, _ := url.Parse("http://" + a + "/")
	cookies := jar.Cookies(au)
	if len(cookies) == 0 {
		t.Fatal("UI login on A set no cookie")
	}
	listed := func(host string) (map[string]bool, int) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/api/repositories", nil)
		for _, c := range cookies {
			req.AddCookie(c) // the cookie A set, sent to B by hand (another host for the jar)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Repositories []struct{ Name, Digest string }
		}
		if resp.StatusCode == 200 {
			json.NewDecoder(resp.Body).Decode(&r)
		}
		names := map[string]bool{}
		for _, c := range r.Repositories {
			names[c.Name] = true
			names[c.Name+"@"+c.Digest] = true
		}
		return names, resp.StatusCode
	}
	// Without the session B refuses; with A's session B answers.
	if resp, err := http.Get("http://" + b + "/api/repositories"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("B without a session: %v %v, want 401", resp.Status, err)
	}
	deadline := time.Now().Add(15 * time.Second) // resync 1s, plus an S3 listing
	for _, host := range []string{a, b} {
		for {
			names, code := listed(host)
			if code != 200 {
				t.Fatalf("%s with the session from A: %d", host, code)
			}
			if names["team/pushed-on-a"] && names["team/pushed-on-b"] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s's UI lists %v, want team/pushed-on-a and team/pushed-on-b", host, names)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// A tag moved and a tag deleted through B show on A's UI within the interval.
	if err := os.WriteFile(filepath.Join(src, "model.onnx"), []byte("another model"), 0o644); err != nil {
		t.Fatal(err)
	}
	oras(src, "push", "--plain-http", "-u", user, "-p", pass, "--artifact-type", "application/vnd.axon.model.v1", b+"/team/pushed-on-b:v1", "model.onnx")
	resp = do(http.MethodHead, "http://"+b+"/v2/team/pushed-on-b/manifests/v1", nil, map[string]string{"Accept": "application/vnd.oci.image.manifest.v1+json"})
	resp.Body.Close()
	moved := resp.Header.Get("Docker-Content-Digest")
	if resp.StatusCode != 200 || moved == "" {
		t.Fatalf("HEAD the moved tag on B: %s %q", resp.Status, moved)
	}
	resp = do(http.MethodDelete, "http://"+b+"/v2/team/pushed-on-a/manifests/v1", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete tag v1 of team/pushed-on-a on B: %s", resp.Status)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		names, _ := listed(a)
		if names["team/pushed-on-b@"+moved] && !names["team/pushed-on-a"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A's UI after a tag move and a delete on B: %v (want team/pushed-on-b at %s, no team/pushed-on-a)", names, moved)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKServeStorageInit is the KServe path with the real binaries: a package
// pushed to axon-registry, fetched by deploy/kserve/axon-storage-init.sh (the
// init container's entrypoint: axon pull + axon export) into a model directory,
// and served from there by mlosd --model-dir, as the ServingRuntime runs it.
func TestKServeStorageInit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a registry and mlosd")
	}
	registry := startRegistry(t, nil, "--root", t.TempDir())
	dev := &env{t: t, vars: []string{"AXON_HOME=" + t.TempDir()}}
	dev.axon("pack", "../../examples/tiny-sentiment", "--name", "examples/tiny-sentiment", "--version", "1.0")
	ref := registry + "/examples/tiny-sentiment:1.0"
	dev.axon("push", "examples/tiny-sentiment@1.0", ref)

	// The init container: its own empty store, the model directory KServe mounts.
	models := filepath.Join(t.TempDir(), "mnt", "models")
	if err := os.MkdirAll(models, 0o755); err != nil {
		t.Fatal(err)
	}
	init := exec.Command("sh", "../../deploy/kserve/axon-storage-init.sh", "axon://"+ref, models)
	init.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "AXON_HOME="+filepath.Join(t.TempDir(), "scratch"))
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("storage initializer: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(models, "manifest.yaml")); err != nil {
		t.Fatalf("export wrote no manifest.yaml: %v", err)
	}
	bad := exec.Command("sh", "../../deploy/kserve/axon-storage-init.sh", "s3://bucket/model", t.TempDir())
	if out, err := bad.CombinedOutput(); err == nil || !strings.Contains(string(out), "want axon://") {
		t.Errorf("an s3:// URI: %v\n%s", err, out)
	}

	// The predictor: mlosd serving the directory, declared only.
	addr := testutil.FreeAddr(t)
	base := "http://" + addr
	p := testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t)}, bin("mlosd"), "--addr", addr, "--data", t.TempDir(),
		// as the ServingRuntime passes it: --model-dir=/mnt/models={{.Name}}
		"--model-dir="+models+"=tiny-sentiment", "--admin-api=false")
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mlosd --model-dir not ready:\n%s", p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var ans seedAnswer
	httpJSON(t, http.MethodPost, base+"/models/tiny-sentiment/inference", map[string]string{"input": "what a wonderful great film"}, &ans)
	if len(ans.Output) == 0 || ans.Output[0].Label != "POSITIVE" {
		t.Fatalf("tiny-sentiment from /mnt/models: %+v", ans)
	}
	var meta struct{ Name, Platform string }
	httpJSON(t, http.MethodGet, base+"/v2/models/tiny-sentiment", nil, &meta)
	if meta.Name != "tiny-sentiment" {
		t.Fatalf("v2 metadata: %+v", meta)
	}

	// A damaged file in the directory is refused, not served.
	damaged := t.TempDir()
	if out, err := exec.Command("cp", "-r", models+"/.", damaged).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(damaged, "model.onnx"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr2 := testutil.FreeAddr(t)
	p2 := testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t)}, bin("mlosd"), "--addr", addr2, "--data", t.TempDir(), "--model-dir", damaged)
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(p2.Output(), "does not match its digest") {
		if time.Now().After(deadline) {
			t.Fatalf("a damaged model directory was not refused:\n%s", p2.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resp, err := http.Get("http://" + addr2 + "/v2/health/ready"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ready with a damaged model directory: %v", err)
	}
}
