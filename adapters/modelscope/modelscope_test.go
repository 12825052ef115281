package modelscope_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/adapters/modelscope"
)

func TestFetchMasterPinnedAndCached(t *testing.T) {
	ms := hubtest.NewModelScope(t)
	commit, err := ms.Push(hubtest.MSRepo{ID: "damo/tiny-bert", License: "Apache License 2.0", Task: "text-classification", Files: hubtest.TinyBERT()})
	if err != nil {
		t.Fatal(err)
	}
	a := &modelscope.Adapter{Endpoint: ms.URL, Token: "ms-token", Engine: download.New(t.TempDir())}
	ms.Faults.CutOnce("onnx/model.onnx", 5000)
	m, err := hubtest.Fetch(t, a, "modelscope/damo/tiny-bert@latest")
	if err != nil {
		t.Fatal(err)
	}
	if m.Revision != commit || m.Task != "text-classification" || m.Framework != "onnx" || !slices.Contains(m.Files, "tokenizer.json") || slices.Contains(m.Files, "pytorch_model.bin") {
		t.Fatalf("model = %+v", m)
	}
	if ms.Faults.Ranges.Load() == 0 {
		t.Error("cut download not resumed")
	}
	if n := ms.AuthOnCDN.Load(); n != 0 {
		t.Errorf("MODELSCOPE_API_TOKEN reached the CDN host %d times", n)
	}
	gets := ms.Faults.FileGets.Load()
	if m2, err := hubtest.Fetch(t, a, "modelscope/damo/tiny-bert@"+commit); err != nil || m2.Downloaded != 0 || ms.Faults.FileGets.Load() != gets {
		t.Fatalf("refetch: %v", err)
	}
}

func TestWrongShaAndMissing(t *testing.T) {
	ms := hubtest.NewModelScope(t)
	if _, err := ms.Push(hubtest.MSRepo{ID: "damo/bad", Files: hubtest.TinyBERT(), WrongSha256: []string{"config.json"}}); err != nil {
		t.Fatal(err)
	}
	a := &modelscope.Adapter{Endpoint: ms.URL, Engine: download.New(t.TempDir())}
	if _, err := hubtest.Fetch(t, a, "modelscope/damo/bad"); !errors.Is(err, adapters.ErrChecksum) {
		t.Errorf("wrong Sha256: %v", err)
	}
	if _, err := hubtest.Fetch(t, a, "modelscope/damo/none"); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	if _, err := hubtest.Fetch(t, a, "modelscope/damo/bad@v3"); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("missing revision: %v", err)
	}
}
