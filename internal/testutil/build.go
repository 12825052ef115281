package testutil

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

var builds sync.Map // package path → *built

type built struct {
	once sync.Once
	bin  string
	err  error
	out  []byte
}

// Build compiles a program of this module (a package path such as
// "github.com/mlos-foundation/axon/cmd/axon-registry") once per test process and
// returns the binary, for tests that run the real program as a separate process.
// The binary lives in a temporary directory that outlives the test (other tests
// of the process reuse it).
func Build(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &built{})
	b := v.(*built)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "axon-build-")
		if err != nil {
			b.err = err
			return
		}
		b.bin = filepath.Join(dir, path.Base(pkg))
		b.out, b.err = exec.Command("go", "build", "-o", b.bin, pkg).CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, b.err, b.out)
	}
	return b.bin
}

// Main is the TestMain of a package whose tests Build programs: it runs the
// tests, deletes what Build compiled and exits with the tests' code.
//
//	func TestMain(m *testing.M) { testutil.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	RemoveBuilds()
	os.Exit(code)
}

// RemoveBuilds deletes what Build compiled; call it from TestMain after m.Run.
func RemoveBuilds() {
	builds.Range(func(_, v any) bool {
		if b := v.(*built); b.bin != "" {
			os.RemoveAll(filepath.Dir(b.bin))
		}
		return true
	})
}
