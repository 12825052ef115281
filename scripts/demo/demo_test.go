package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// The README's first command must work: run the demo as `go tool task demo` does and
// check that it printed real inference results from mlosd.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs all three programs")
	}
	lib := testutil.ORTLibrary(t)
	cmd := exec.Command("go", "run", ".", "--registry-addr", testutil.FreeAddr(t), "--mlosd-addr", testutil.FreeAddr(t))
	cmd.Env = append(os.Environ(), "ONNXRUNTIME_LIB="+lib)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{`"label": "POSITIVE"`, `"label": "NEGATIVE"`, `"latency"`, "registered examples/tiny-sentiment (sha256:", "registered examples/tiny-bert-native (sha256:", "@sha256:", "==> done in"} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q:\n%s", want, s)
		}
	}
	// The positive sentence comes first and must be classified POSITIVE.
	first := s[strings.Index(s, "What a great day"):]
	if strings.Index(first, `"label": "POSITIVE"`) > strings.Index(first, `"label": "NEGATIVE"`) {
		t.Errorf("the positive sentence was not classified POSITIVE:\n%s", s)
	}
}
