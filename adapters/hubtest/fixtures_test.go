package hubtest_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// The committed tiny BERT must stay what its script makes (torch + onnx only).
func TestMakeTinyBERTReproduces(t *testing.T) {
	if testing.Short() {
		t.Skip("runs torch")
	}
	py := testutil.Python(t)
	out := t.TempDir()
	cmd := exec.Command(py, "testdata/make_tiny_bert.py", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_tiny_bert.py: %v\n%s", err, b)
	}
	made, err := onnx.Inspect(filepath.Join(out, "onnx", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := onnx.Inspect(filepath.Join("testdata", "tiny-bert", "onnx", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	name := func(info *onnx.Info) (n []string) {
		for _, in := range info.Inputs {
			n = append(n, in.Name+":"+in.DType+":"+in.Shape[0].String()+","+in.Shape[1].String())
		}
		return n
	}
	want := []string{"input_ids:int64:batch,sequence", "attention_mask:int64:batch,sequence", "token_type_ids:int64:batch,sequence"}
	if !slices.Equal(name(made), want) || !slices.Equal(name(committed), want) || made.Parameters != committed.Parameters {
		t.Fatalf("made %v (%d params), committed %v (%d params)", name(made), made.Parameters, name(committed), committed.Parameters)
	}
}
