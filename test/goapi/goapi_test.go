// Package goapi_test shows that the public Go API is enough for a program
// outside this module: it writes a temporary module that requires
// github.com/mlos-foundation/axon (replaced by this checkout), imports only
// the public package, and packs, pushes to a real axon-registry, pulls into
// another store and registers with a real mlosd. The Go toolchain itself
// refuses an import of internal/ from there, so the program cannot cheat.
package goapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// program is the module outside: every verb it calls is github.com/mlos-foundation/axon's.
const program = `package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/mlos-foundation/axon"
)

func main() {
	registry, mlosURL, dir := os.Args[1], os.Args[2], os.Args[3]
	dev, prod := os.Args[4], os.Args[5]
	ctx := context.Background()

	pkg, err := axon.Pack(ctx, dir, axon.WithHome(dev), axon.WithName("goapi/tiny-sentiment"), axon.WithVersion("1.0"))
	if err != nil {
		log.Fatal(err)
	}
	pushed, err := axon.Push(ctx, pkg.Ref, "", axon.WithHome(dev), axon.WithRegistry(registry))
	if err != nil {
		log.Fatal(err)
	}
	pulled, err := axon.Pull(ctx, "goapi/tiny-sentiment@1.0", axon.WithHome(prod), axon.WithRegistry(registry))
	if err != nil {
		log.Fatal(err)
	}
	info, err := axon.Inspect(ctx, "goapi/tiny-sentiment@1.0", axon.WithHome(prod))
	if err != nil {
		log.Fatal(err)
	}
	reg, err := axon.Register(ctx, "goapi/tiny-sentiment@1.0", axon.WithHome(prod), axon.WithMLOSURL(mlosURL))
	if err != nil {
		log.Fatal(err)
	}
	served, err := axon.Served(ctx, axon.WithMLOSURL(mlosURL))
	if err != nil {
		log.Fatal(err)
	}
	out := map[string]any{
		"packed":      pkg.Digest().String(),
		"pushedRef":   pushed.Ref,
		"pushed":      pushed.Descriptor.Digest.String(),
		"pushedBlobs": pushed.Blobs,
		"pulled":      pulled.Descriptor.Digest.String(),
		"remotes":     info.Remotes,
		"task":        info.Manifest.Task,
		"registered":  reg.Ref,
		"name":        reg.Model.Name,
		"digest":      reg.Model.Digest,
		"served":      len(served),
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}
`

func TestOutsideModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module and starts axon-registry and mlosd")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	registry := testutil.FreeAddr(t)
	testutil.Start(t, nil, testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon-registry"), "--addr", registry, "--root", t.TempDir())
	testutil.WaitHTTP(t, "http://"+registry+"/v2/", 30*time.Second)
	mlosd := testutil.FreeAddr(t)
	testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t)}, testutil.Build(t, "github.com/mlos-foundation/axon/cmd/mlosd"), "--addr", mlosd, "--data", t.TempDir())
	testutil.WaitHTTP(t, "http://"+mlosd+"/healthz", 30*time.Second)

	mod := t.TempDir()
	gomod := "module example.com/axonuser\n\ngo 1.26.8\n\nrequire github.com/mlos-foundation/axon v0.0.0-00010101000000-000000000000\n\nreplace github.com/mlos-foundation/axon => " + repo + "\n"
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(program)} {
		if err := os.WriteFile(filepath.Join(mod, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(t.TempDir(), "axonuser")
	// -mod=mod fills in the requirements the replaced module brings, at its
	// versions; with this checkout's go.sum they resolve from the module
	// cache, so the test needs no network when the module has been built.
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = mod
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build of the outside module: %v\n%s", err, out)
	}
	dev, prod := t.TempDir(), t.TempDir()
	run := exec.Command(bin, registry, "http://"+mlosd, filepath.Join(repo, "examples", "tiny-sentiment"), dev, prod)
	run.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
	var stderr bytes.Buffer
	run.Stderr = &stderr
	out, err := run.Output()
	if err != nil {
		t.Fatalf("the outside program: %v\n%s", err, stderr.String())
	}
	var got struct {
		Packed, PushedRef, Pushed, Pulled, Task, Registered, Name, Digest string
		PushedBlobs, Served                                               int
		Remotes                                                           []string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if got.PushedRef != registry+"/goapi/tiny-sentiment:1.0" || got.Pushed != got.Packed || got.Pulled != got.Packed || got.PushedBlobs == 0 {
		t.Errorf("push/pull: %+v", got)
	}
	if len(got.Remotes) != 1 || got.Remotes[0] != registry+"/goapi/tiny-sentiment" || got.Task != "text-classification" {
		t.Errorf("inspect after pull: %+v", got)
	}
	// Registered by digest from the registry it was pulled from, not by tag.
	if got.Registered != registry+"/goapi/tiny-sentiment@"+got.Packed || got.Digest != got.Packed || got.Name != "goapi/tiny-sentiment" || got.Served != 1 {
		t.Errorf("register: %+v", got)
	}
	// And mlosd really serves it.
	resp, err := http.Post("http://"+mlosd+"/models/goapi/tiny-sentiment/inference", "application/json", strings.NewReader(`{"input":"what a wonderful great film"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	json.NewDecoder(resp.Body).Decode(&ans)
	if resp.StatusCode != 200 || !strings.Contains(strings.ToUpper(jsonString(ans)), "POSITIVE") {
		t.Errorf("inference: %d %v", resp.StatusCode, ans)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
