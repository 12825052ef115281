package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/client"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// modelsState is GET /models reduced to name → (state, digest).
func modelsState(t *testing.T, base string) map[string]mlos.Info {
	t.Helper()
	resp, err := http.Get(base + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Models []mlos.Info }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]mlos.Info{}
	for _, m := range body.Models {
		out[m.Name] = m
	}
	return out
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func writeModels(t *testing.T, path string, entries ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("models:\n")
	for _, e := range entries {
		b.WriteString(e)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

var affineBody = []byte(`{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`)

// inferAffine runs one request and checks the answer against the reference.
func inferAffine(base, name string) error {
	resp, err := http.Post(base+"/v2/models/"+name+"/infer", "application/json", bytes.NewReader(affineBody))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		Outputs []struct{ Data []float32 }
		Error   string
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fmt.Errorf("%s: %v", resp.Status, err)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", resp.Status, out.Error)
	}
	want := mlostest.AffineRef([3]float32{1, 2, 3})
	if len(out.Outputs) != 1 || len(out.Outputs[0].Data) != 2 || out.Outputs[0].Data[0] != want[0] || out.Outputs[0].Data[1] != want[1] {
		return fmt.Errorf("outputs %+v, want %v", out.Outputs, want)
	}
	return nil
}

// declaredSetup is what the declared-model tests start from: mlosd built and
// an OCI layout holding test/affine@1 (tag v1), to add more packages to.
func declaredSetup(t *testing.T) (bin, layout string, affine ocispec.Descriptor) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts mlosd")
	}
	bin = build(t)
	layout = filepath.Join(t.TempDir(), "layout")
	affine = mlostest.Package{Namespace: "test", Name: "affine", Version: "1", Model: mlostest.AffineModel(t)}.Layout(t, layout, "v1")
	return bin, layout, affine
}

// TestDeclaredModels: mlosd --models FILE is ready only once every model in it
// has loaded; SIGHUP after an edit adds one model, removes another and reloads
// a third whose digest changed, while a load generator on the reloaded model
// sees no error at all.
func TestDeclaredModels(t *testing.T) {
	bin, layout, affine1 := declaredSetup(t)
	affine2 := mlostest.Package{Namespace: "test", Name: "affine", Version: "2", Model: mlostest.AffineModel(t)}.Layout(t, layout, "v2")
	mlp := mlostest.Package{Namespace: "test", Name: "mlp", Version: "1", Model: mlostest.MLP(t, 4, 8, 2)}.Layout(t, layout, "mlp")
	ident := mlostest.Package{Namespace: "test", Name: "identity", Version: "1", Model: mlostest.IdentityModel(t)}.Layout(t, layout, "identity")
	ref := func(d fmt.Stringer) string { return "oci-layout://" + layout + "@" + d.String() }

	file := filepath.Join(t.TempDir(), "models.yaml")
	writeModels(t, file,
		"  - ref: "+ref(affine1.Digest)+"\n    name: affine\n",
		// the default name is the package's namespace/name; options reach the model
		"  - ref: "+ref(mlp.Digest)+"\n    options: {maxBatchSize: 4, intraOpThreads: 1}\n",
	)
	data := t.TempDir()
	// Ready only once both have loaded.
	p, base := startReady(t, bin, "--data", data, "--models", file, "--admin-api=false")
	st := modelsState(t, base)
	if st["affine"].State != mlos.StateReady || st["test/mlp"].State != mlos.StateReady || len(st) != 2 {
		t.Fatalf("ready with models %+v, want affine and test/mlp loaded", st)
	}
	if st["affine"].Digest != affine1.Digest.String() {
		t.Fatalf("affine at %s, want %s", st["affine"].Digest, affine1.Digest)
	}
	// The imperative API is off.
	resp, err := http.Post(base+"/models", "application/json", strings.NewReader(`{"ref":"`+ref(ident.Digest)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /models with --admin-api=false: %s, want 403", resp.Status)
	}

	// Load on the model that survives the edit (and changes digest).
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stopLoad := testutil.Repeat(4, func() bool {
		if err := inferAffine(base, "affine"); err != nil {
			failed.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		} else {
			ok.Add(1)
		}
		return true
	})
	time.Sleep(300 * time.Millisecond)

	writeModels(t, file,
		"  - ref: "+ref(affine2.Digest)+"\n    name: affine\n",
		"  - ref: "+ref(ident.Digest)+"\n    name: ident\n",
	)
	if err := p.Cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st = modelsState(t, base)
		_, mlpLeft := st["test/mlp"]
		if !mlpLeft && st["ident"].State == mlos.StateReady && st["affine"].Digest == affine2.Digest.String() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after SIGHUP: %+v\n%s", st, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status(t, base+"/v2/health/ready") != 200 || status(t, base+"/readyz") != 200 {
		t.Errorf("not ready after the reload")
	}
	// Past the drain grace, the old copy's session is freed under load.
	time.Sleep(mlos.DrainGrace + time.Second)
	stopLoad()
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("load generator: %d ok, %d failed (first: %v)", ok.Load(), failed.Load(), firstErr.Load())
	}
	if c := status(t, base+"/v2/models/test/mlp/ready"); c != http.StatusNotFound {
		t.Errorf("removed model answers %d, want 404", c)
	}
	t.Logf("%d requests during the reload, none failed", ok.Load())
	// The file is the record of declared models: none is saved as a registration
	// (a restart with another file must not bring the old ones back).
	if b, err := os.ReadFile(filepath.Join(data, "models.json")); err != nil || strings.TrimSpace(string(b)) != "[]" {
		t.Errorf("models.json holds %q (%v), want no registrations", b, err)
	}

	// A file that no longer parses changes nothing.
	if err := os.WriteFile(file, []byte("models:\n  - ref: x\n    nmae: typo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(500 * time.Millisecond)
	if err := inferAffine(base, "affine"); err != nil {
		t.Fatalf("after a bad file: %v", err)
	}
	if !strings.Contains(p.Output(), "nmae") {
		t.Errorf("the bad file's error does not name the field:\n%s", p.Output())
	}

	// A reload that cannot pull the new digest keeps the serving copy, and the
	// pod stays ready (its Service keeps it), with the error in the log.
	missing := "oci-layout://" + layout + "@sha256:" + strings.Repeat("0", 64)
	writeModels(t, file, "  - ref: "+missing+"\n    name: affine\n", "  - ref: "+ref(ident.Digest)+"\n    name: ident\n")
	p.Cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(p.Output(), strings.Repeat("0", 64)) {
		if time.Now().After(deadline) {
			t.Fatalf("the failed reload was not logged:\n%s", p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := inferAffine(base, "affine"); err != nil {
		t.Fatalf("after a failed reload: %v", err)
	}
	if st := modelsState(t, base); st["affine"].Digest != affine2.Digest.String() || status(t, base+"/v2/health/ready") != 200 {
		t.Fatalf("after a failed reload: affine %+v, ready %d", st["affine"], status(t, base+"/v2/health/ready"))
	}
}

// TestDeclaredNotReady: a declared model that cannot load keeps the process
// live but not ready, with the failure in GET /models.
func TestDeclaredNotReady(t *testing.T) {
	bin, layout, affine := declaredSetup(t)
	addr := testutil.FreeAddr(t)
	base := "http://" + addr
	token := "s3cret-token"
	p := testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t), "MLOSD_ADMIN_TOKEN=" + token}, bin, "--addr", addr, "--data", t.TempDir(), "--allow-layout", os.TempDir(),
		"--model", "oci-layout://"+layout+"@"+affine.Digest.String()+"=affine",
		"--model", "oci-layout://"+filepath.Join(t.TempDir(), "absent")+":v1=absent")
	testutil.WaitHTTP(t, base+"/healthz", 30*time.Second)
	deadline := time.Now().Add(60 * time.Second)
	for modelsState(t, base)["absent"].State != mlos.StateFailed {
		if time.Now().After(deadline) {
			t.Fatalf("absent model never failed: %+v\n%s", modelsState(t, base), p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for modelsState(t, base)["affine"].State != mlos.StateReady {
		if time.Now().After(deadline) {
			t.Fatalf("affine never loaded\n%s", p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c, s := status(t, base+"/v2/health/ready"), status(t, base+"/readyz"); c != http.StatusServiceUnavailable || s != c {
		t.Fatalf("ready with a declared model failed: %d", c)
	}
	if err := inferAffine(base, "affine"); err != nil {
		t.Fatalf("the loaded model does not serve: %v", err)
	}

	// The admin API wants the token.
	del := func(auth string) int {
		req, _ := http.NewRequest(http.MethodDelete, base+"/models/absent", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := del(""); c != http.StatusUnauthorized {
		t.Fatalf("DELETE without a token: %d, want 401", c)
	}
	if c := del("Bearer wrong"); c != http.StatusUnauthorized {
		t.Fatalf("DELETE with a wrong token: %d, want 401", c)
	}
	if c := del("Bearer " + token); c != http.StatusOK {
		t.Fatalf("DELETE with the token: %d, want 200", c)
	}
	resp, err := http.Post(base+"/v2/repository/models/affine/unload", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("v2 repository unload without a token: %s, want 401", resp.Status)
	}
	// The Go client (and so axon register) sends $MLOSD_ADMIN_TOKEN.
	t.Setenv(client.EnvToken, "")
	if _, err := client.New(base).Register(context.Background(), "oci-layout://"+layout+"@"+affine.Digest.String(), "extra"); err == nil {
		t.Fatal("register without the token succeeded")
	}
	t.Setenv(client.EnvToken, token)
	if info, err := client.New(base).Register(context.Background(), "oci-layout://"+layout+"@"+affine.Digest.String(), "extra"); err != nil || info.State != mlos.StateReady {
		t.Fatalf("register with $%s: %+v %v", client.EnvToken, info, err)
	}
	// Inference needs no token.
	if err := inferAffine(base, "affine"); err != nil {
		t.Fatal(err)
	}
}

// TestDeclaredModelsPoll: with --models-poll, a changed file (a ConfigMap that
// Kubernetes updated in place) is applied without a signal.
func TestDeclaredModelsPoll(t *testing.T) {
	bin, layout, affine := declaredSetup(t)
	ident := mlostest.Package{Namespace: "test", Name: "identity", Version: "1", Model: mlostest.IdentityModel(t)}.Layout(t, layout, "identity")
	file := filepath.Join(t.TempDir(), "models.yaml")
	writeModels(t, file, "  - ref: oci-layout://"+layout+"@"+affine.Digest.String()+"\n    name: affine\n")
	deadline := time.Now().Add(60 * time.Second)
	p, base := startReady(t, bin, "--data", t.TempDir(), "--models", file, "--models-poll", "100ms")
	// Unchanged, the file is not applied again (nothing pulled or hashed per tick).
	time.Sleep(600 * time.Millisecond)
	if n := strings.Count(p.Output(), "declared models ready"); n != 1 {
		t.Fatalf("applied %d times with the file unchanged:\n%s", n, p.Output())
	}
	writeModels(t, file, "  - ref: oci-layout://"+layout+"@"+ident.Digest.String()+"\n    name: ident\n")
	for {
		st := modelsState(t, base)
		if _, left := st["affine"]; !left && st["ident"].State == mlos.StateReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the changed file was not applied: %+v\n%s", st, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
