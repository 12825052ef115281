package client_test

import (
	"os/exec"
	"strings"
	"testing"
)

// goList runs `go list -deps` over pkgs and returns one line per dependency
// outside the standard library (whose net package has cgo files of its own on
// Linux, which a CGO_ENABLED=0 build replaces).
func goList(t *testing.T, format string, pkgs ...string) []string {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}" + format + "{{end}}"}, pkgs...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// A program that only talks to mlosd must not link ONNX Runtime, nor cgo at all.
func TestClientLinksNoCgo(t *testing.T) {
	lines := goList(t, "{{.ImportPath}} {{.CgoFiles}}", "github.com/mlos-foundation/axon/mlos/client")
	sawAPI := false
	for _, l := range lines {
		path, files, _ := strings.Cut(l, " ")
		if files != "[]" {
			t.Errorf("mlos/client depends on %s, which uses cgo (%s)", path, files)
		}
		if path == "github.com/mlos-foundation/axon/mlos" {
			t.Errorf("mlos/client depends on the runtime itself; wire types belong in mlos/api")
		}
		sawAPI = sawAPI || path == "github.com/mlos-foundation/axon/mlos/api"
	}
	if !sawAPI {
		t.Fatalf("go list saw no mlos/api among %q: the check looked at the wrong thing", lines)
	}
}

// axon delivers packages and drives mlosd over HTTP; it never serves models,
// so it must not link the runtime (for a constant or a struct either). (Its
// converter links ONNX Runtime on purpose, to check what it converts.)
func TestAxonLinksNoRuntime(t *testing.T) {
	lines := goList(t, "{{.ImportPath}}", "github.com/mlos-foundation/axon/cmd/axon",
		"github.com/mlos-foundation/axon/install", "github.com/mlos-foundation/axon/internal/...")
	sawClient := false
	for _, path := range lines {
		if path == "github.com/mlos-foundation/axon/mlos" {
			t.Errorf("axon links %s; what it shares with mlosd belongs in mlos/api or schemas", path)
		}
		sawClient = sawClient || path == "github.com/mlos-foundation/axon/mlos/client"
	}
	if !sawClient {
		t.Fatalf("go list saw no mlos/client among the dependencies of cmd/axon: the check looked at the wrong thing")
	}
}
