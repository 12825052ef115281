package tfhub_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/adapters/hubtest"
	"github.com/mlos-foundation/axon/adapters/tfhub"
)

func savedModel(tag string) []hubtest.File {
	return []hubtest.File{
		hubtest.Bytes("saved_model.pb", []byte("\x08\x01saved model "+tag)),
		hubtest.Bytes("variables/variables.index", []byte("index "+tag)),
		hubtest.Bytes("variables/variables.data-00000-of-00001", make([]byte, 70000)),
	}
}

func TestLatestAndPinned(t *testing.T) {
	h := hubtest.NewTFHub(t)
	for v, tag := range map[int]string{1: "one", 2: "two"} {
		if err := h.Add("google", "tiny-classifier", v, savedModel(tag)); err != nil {
			t.Fatal(err)
		}
	}
	a := &tfhub.Adapter{Endpoint: h.URL, Engine: download.New(t.TempDir())}
	m, err := hubtest.Fetch(t, a, "tfhub/google/tiny-classifier@latest")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(m.Dir, "saved_model.pb"))
	if m.Revision != "2" || string(b) != "\x08\x01saved model two" || m.Kind != "savedmodel" {
		t.Fatalf("revision %s, saved_model.pb %q", m.Revision, b)
	}
	h.Faults.CutOnce("google/tiny-classifier/1", 100)
	m1, err := hubtest.Fetch(t, a, "tfhub/google/tiny-classifier/1")
	if err != nil || m1.Revision != "1" {
		t.Fatalf("pinned: %v %+v", err, m1)
	}
	if h.Faults.Ranges.Load() == 0 {
		t.Error("the cut download was not resumed with Range")
	}
	gets := h.Faults.FileGets.Load()
	if m2, err := hubtest.Fetch(t, a, "tfhub/google/tiny-classifier/1"); err != nil || m2.Downloaded != 0 || h.Faults.FileGets.Load() != gets {
		t.Fatalf("refetch downloaded again: %v", err)
	}
	if _, err := hubtest.Fetch(t, a, "tfhub/google/tiny-classifier/7"); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("missing version: %v", err)
	}
	if _, err := hubtest.Fetch(t, a, "tfhub/google/nothing"); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("missing model: %v", err)
	}
}

func TestMultiElementHandle(t *testing.T) {
	h := hubtest.NewTFHub(t)
	if err := h.Add("google", "imagenet/mobilenet_v2_100_224/classification", 5, savedModel("five")); err != nil {
		t.Fatal(err)
	}
	a := &tfhub.Adapter{Endpoint: h.URL, Engine: download.New(t.TempDir())}
	for _, ref := range []string{"tfhub/google/imagenet/mobilenet_v2_100_224/classification/5", "tfhub/google/imagenet/mobilenet_v2_100_224/classification@latest"} {
		m, err := hubtest.Fetch(t, a, ref)
		if err != nil || m.Revision != "5" || m.ID != "google/imagenet/mobilenet_v2_100_224/classification" {
			t.Fatalf("%s: %v %+v", ref, err, m)
		}
	}
}

func TestArchiveEscapeRefused(t *testing.T) {
	h := hubtest.NewTFHub(t)
	files := append(savedModel("x"), hubtest.Bytes("../../evil", []byte("x")))
	if err := h.Add("evil", "m", 1, files); err != nil {
		t.Fatal(err)
	}
	a := &tfhub.Adapter{Endpoint: h.URL, Engine: download.New(t.TempDir())}
	if _, err := hubtest.Fetch(t, a, "tfhub/evil/m/1"); !errors.Is(err, adapters.ErrUnsafe) {
		t.Fatalf("err = %v, want unsafe", err)
	}
}
