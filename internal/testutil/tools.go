// Package testutil finds and starts the real external parts the tests use: peers
// (oras, CNCF Distribution), the OCI conformance suite, a real S3 server (versitygw),
// the ONNX Runtime library, Chromium and a Python that imports torch.
//
// When a part is missing the test is skipped, unless AXON_REQUIRE_TOOLS=1 (set by
// `go tool task test` and CI, after scripts/install-tools.sh), where it fails: CI must
// never go green by skipping.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ToolsDir is where scripts/install-tools.sh caches what it installs.
func ToolsDir() string {
	if d := os.Getenv("AXON_TOOLS"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "axon-tools")
}

// Missing skips the test, or fails it when tools are required.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("AXON_REQUIRE_TOOLS") == "1" {
		t.Fatalf("%s is missing; run scripts/install-tools.sh (go tool task tools)", what)
	}
	t.Skipf("%s is missing; run scripts/install-tools.sh (go tool task tools) to run this test", what)
}

// LookTool returns the path of an installed tool ("" when absent): the tools
// cache first, then PATH.
func LookTool(name string) string {
	p := filepath.Join(ToolsDir(), "bin", name)
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// Tool returns the path of an installed tool or skips/fails the test.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p := LookTool(name)
	if p == "" {
		Missing(t, name)
	}
	return p
}

// ORTLibrary returns the ONNX Runtime 1.24.1 shared library path.
func ORTLibrary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{
		os.Getenv("ONNXRUNTIME_LIB"),
		filepath.Join(ToolsDir(), "onnxruntime-1.24.1", "libonnxruntime.so"),
	} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "the ONNX Runtime library (ONNXRUNTIME_LIB)")
	return ""
}

// Chromium returns a headless-capable Chromium binary.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "chromium")
	return ""
}

// Python returns a python3 that imports torch and onnx. Debian's python3-torch
// imports only in the system python, which need not be the first python3 on PATH.
func Python(t testing.TB) string {
	t.Helper()
	if p := FindPython("torch", "onnx"); p != "" {
		return p
	}
	Missing(t, "a python3 that imports torch and onnx (Debian python3-torch python3-onnx)")
	return ""
}

// FindPython returns the first python3 candidate that imports every module, or "".
func FindPython(modules ...string) string {
	cands := []string{os.Getenv("AXON_PYTHON")}
	if p, err := exec.LookPath("python3"); err == nil {
		cands = append(cands, p)
	}
	cands = append(cands, "/usr/bin/python3", "/usr/local/bin/python3")
	script := ""
	for _, m := range modules {
		script += "import " + m + "\n"
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if err := exec.Command(c, "-c", script).Run(); err == nil {
			return c
		}
	}
	return ""
}
