package mlostest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// BertReference is reference.json written by testdata/make_bert.py.
type BertReference struct {
	Sentences   []string    `json:"sentences"`
	IDs         [][]int64   `json:"ids"`
	Probs       [][]float64 `json:"probs"`
	Embeddings  [][]float64 `json:"embeddings"`
	Labels      []string    `json:"labels"`
	Generations []struct {
		Prompt       string  `json:"prompt"`
		MaxNewTokens int     `json:"max_new_tokens"`
		TokenIDs     []int64 `json:"token_ids"`
	} `json:"generations"`
}

// BertFixture runs mlos/testdata/make_bert.py with Debian's python3-torch
// (once per script version; outputs are cached under the user cache dir) and
// returns the directory holding bert.onnx, lm.onnx, tokenizer.json,
// config.json and the reference outputs.
func BertFixture(t testing.TB) (string, *BertReference) {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "testdata", "make_bert.py")
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(src)
	return cachedFixture[BertReference](t, "bert", sum[:], func(py, tmp string) {
		out, err := exec.Command(py, script, tmp).CombinedOutput()
		if err != nil {
			t.Fatalf("make_bert.py: %v\n%s", err, out)
		}
	})
}

// cachedFixture returns the directory NAME-HASH under the user cache dir
// (axon-tests/) and its reference.json decoded as R. When the directory is
// missing, build writes it into a temporary sibling (with testutil.Python's
// interpreter) that is renamed into place, so that concurrent test processes
// never see half a fixture.
func cachedFixture[R any](t testing.TB, name string, sum []byte, build func(py, tmp string)) (string, *R) {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "axon-tests", name+"-"+hex.EncodeToString(sum[:8]))
	refPath := filepath.Join(dir, "reference.json")
	if _, err := os.Stat(refPath); err != nil {
		py := testutil.Python(t)
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+name+"-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		build(py, tmp)
		if err := os.Rename(tmp, dir); err != nil {
			if _, serr := os.Stat(refPath); serr != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := os.ReadFile(refPath)
	if err != nil {
		t.Fatal(err)
	}
	var ref R
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return dir, &ref
}

// TextPackages builds the fixture's packages: test/bert-cls
// (text-classification), test/bert-emb (feature-extraction) and test/lm
// (text-generation), each with tokenizer.json and config.json.
func TextPackages(t testing.TB, dir string) (cls, emb, lm Package) {
	t.Helper()
	files := textFiles(t, dir)
	bert := readFixture(t, dir, "bert.onnx")
	cls = Package{Namespace: "test", Name: "bert-cls", Version: "1", Task: "text-classification", Model: bert, Files: files}
	emb = Package{Namespace: "test", Name: "bert-emb", Version: "1", Task: "feature-extraction", Model: bert, Files: files}
	lm = Package{Namespace: "test", Name: "lm", Version: "1", Task: "text-generation", Model: readFixture(t, dir, "lm.onnx"), Files: files}
	return cls, emb, lm
}

// textFiles are a fixture's tokenizer.json and config.json, the files its
// text packages carry.
func textFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	return map[string][]byte{"tokenizer.json": readFixture(t, dir, "tokenizer.json"), "config.json": readFixture(t, dir, "config.json")}
}

// readFixture reads the file name in the fixture directory dir.
func readFixture(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
