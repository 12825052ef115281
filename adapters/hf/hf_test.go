package hf_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
	"github.com/mlos-foundation/axon/adapters/hf"
	"github.com/mlos-foundation/axon/adapters/hubtest"
)

func bertRepo() hubtest.HFRepo {
	return hubtest.HFRepo{
		ID: "google-bert/bert-base-uncased", Aliases: []string{"bert-base-uncased"},
		PipelineTag: "text-classification", LibraryName: "transformers", License: "apache-2.0",
		Files: hubtest.TinyBERT(),
	}
}

func newAdapter(h *hubtest.HF, cache string) *hf.Adapter {
	return &hf.Adapter{Endpoint: h.URL, Engine: download.New(cache)}
}

func TestFetchLegacyIDLatestThenCached(t *testing.T) {
	h := hubtest.NewHF(t)
	h.PageSize = 3 // several Link pages
	sha := h.MustPush(t, bertRepo())
	a := newAdapter(h, t.TempDir())
	a.Token = h.Token // must never reach the CDN host
	m, err := hubtest.Fetch(t, a, "hf/bert-base-uncased@latest")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "google-bert/bert-base-uncased" || m.Revision != sha || m.Task != "text-classification" || m.License != "apache-2.0" {
		t.Fatalf("model = %+v, want canonical id, commit %s", m, sha)
	}
	for _, want := range []string{"onnx/model.onnx", "config.json", "tokenizer.json", "vocab.txt"} {
		if !slices.Contains(m.Files, want) {
			t.Errorf("%s not fetched: %v", want, m.Files)
		}
		if _, err := os.Stat(filepath.Join(m.Dir, want)); err != nil {
			t.Error(err)
		}
	}
	if slices.Contains(m.Files, "pytorch_model.bin") {
		t.Errorf("pytorch_model.bin fetched although onnx/model.onnx is there")
	}
	if m.Framework != "onnx" || m.Downloaded != len(m.Files) || m.Cached != 0 {
		t.Errorf("framework %s downloaded %d cached %d of %d", m.Framework, m.Downloaded, m.Cached, len(m.Files))
	}
	if n := h.AuthOnCDN.Load(); n != 0 {
		t.Errorf("the token was sent to the CDN host %d times", n)
	}
	got, _ := os.ReadFile(filepath.Join(m.Dir, "onnx/model.onnx"))
	for _, f := range hubtest.TinyBERT() {
		if f.Path == "onnx/model.onnx" && string(f.Data) != string(got) {
			t.Fatal("model.onnx differs from the served file")
		}
	}

	gets := h.Faults.FileGets.Load()
	m2, err := hubtest.Fetch(t, a, "hf/google-bert/bert-base-uncased@"+sha)
	if err != nil {
		t.Fatal(err)
	}
	if m2.Downloaded != 0 || m2.Cached != len(m2.Files) || h.Faults.FileGets.Load() != gets {
		t.Fatalf("second fetch downloaded %d files (%d GETs), want 0", m2.Downloaded, h.Faults.FileGets.Load()-gets)
	}
}

func TestErrors(t *testing.T) {
	h := hubtest.NewHF(t)
	h.MustPush(t, bertRepo())
	gated := bertRepo()
	gated.ID, gated.Aliases, gated.Gated = "meta/gated-bert", nil, true
	h.MustPush(t, gated)
	private := bertRepo()
	private.ID, private.Aliases, private.Private = "acme/private-bert", nil, true
	h.MustPush(t, private)

	cases := []struct {
		ref, token string
		want       error
		msg        string
	}{
		{"hf/nobody/nothing", "", adapters.ErrNotFound, "does not exist or is private"},
		{"hf/google-bert/bert-base-uncased@v9", "", adapters.ErrNotFound, `revision "v9"`},
		{"hf/meta/gated-bert", "", adapters.ErrGated, "gated model"},
		{"hf/meta/gated-bert", "hf_wrong", adapters.ErrGated, "not been granted"},
		{"hf/acme/private-bert", "", adapters.ErrNotFound, "set HF_TOKEN"},
		{"hf/acme/private-bert", "hf_wrong", adapters.ErrNotFound, "HF_TOKEN is set: check the name, and that the token's account can read it"},
	}
	for _, c := range cases {
		a := newAdapter(h, t.TempDir())
		a.Token = c.token
		_, err := hubtest.Fetch(t, a, c.ref)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.ref, err, c.want, c.msg)
		}
	}
	// The same bytes in the cache (from the public repository) do not open a gated one.
	shared := newAdapter(h, t.TempDir())
	if _, err := hubtest.Fetch(t, shared, "hf/google-bert/bert-base-uncased"); err != nil {
		t.Fatal(err)
	}
	if _, err := hubtest.Fetch(t, shared, "hf/meta/gated-bert"); !errors.Is(err, adapters.ErrGated) {
		t.Errorf("gated repository with its files cached: %v", err)
	}
	for _, ref := range []string{"hf/meta/gated-bert", "hf/acme/private-bert"} {
		a := newAdapter(h, t.TempDir())
		a.Token = h.Token
		if _, err := hubtest.Fetch(t, a, ref); err != nil {
			t.Errorf("%s with token: %v", ref, err)
		}
	}
}

func TestWrongChecksumRefused(t *testing.T) {
	h := hubtest.NewHF(t)
	h.MustPush(t, bertRepo())
	h.Faults.Corrupt("onnx/model.onnx", true)
	h.Faults.Corrupt("config.json", true)
	cache := t.TempDir()
	_, err := hubtest.Fetch(t, newAdapter(h, cache), "hf/bert-base-uncased")
	if !errors.Is(err, adapters.ErrChecksum) {
		t.Fatalf("err = %v, want a checksum mismatch", err)
	}
	// Nothing unverified may enter the cache.
	blobs, _ := filepath.Glob(filepath.Join(cache, "blobs", "sha256", "*"))
	for _, b := range blobs {
		for _, f := range hubtest.TinyBERT() {
			if f.Path == "onnx/model.onnx" || f.Path == "config.json" {
				if fi, _ := os.Stat(b); fi.Size() == int64(len(f.Data)) {
					data, _ := os.ReadFile(b)
					if string(data) != string(f.Data) {
						t.Fatalf("corrupt %s entered the cache", f.Path)
					}
				}
			}
		}
	}
}

func TestResumeAfterCut(t *testing.T) {
	h := hubtest.NewHF(t)
	h.MustPush(t, bertRepo())
	h.Faults.CutOnce("onnx/model.onnx", 40000)
	m, err := hubtest.Fetch(t, newAdapter(h, t.TempDir()), "hf/bert-base-uncased")
	if err != nil {
		t.Fatal(err)
	}
	if h.Faults.Ranges.Load() == 0 {
		t.Fatal("no Range request after the cut")
	}
	if served := h.Faults.BytesServed.Load(); served > 2*120000 {
		t.Errorf("served %d bytes: the download restarted instead of resuming", served)
	}
	if !slices.Contains(m.Files, "onnx/model.onnx") {
		t.Fatal("model.onnx missing")
	}
}

func TestUnsafeNamesRefused(t *testing.T) {
	h := hubtest.NewHF(t)
	h.MustPush(t, hubtest.HFRepo{ID: "evil/repo", Files: []hubtest.File{
		hubtest.Bytes("config.json", []byte("{}")),
		hubtest.Bytes("../../escape.json", []byte("{}")),
	}})
	a := newAdapter(h, t.TempDir())
	a.Include = []string{"**"}
	dir := t.TempDir()
	r, _ := adapters.ParseRef("hf/evil/repo")
	_, err := a.Fetch(context.Background(), r, filepath.Join(dir, "in"))
	if !errors.Is(err, adapters.ErrUnsafe) {
		t.Fatalf("err = %v, want unsafe path", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "escape.json")); err == nil {
		t.Fatal("a file escaped the target directory")
	}
}

// A new revision that changes one file downloads that file only.
func TestNewRevisionDownloadsOnlyChanges(t *testing.T) {
	h := hubtest.NewHF(t)
	first := h.MustPush(t, bertRepo())
	a := newAdapter(h, t.TempDir())
	if _, err := hubtest.Fetch(t, a, "hf/google-bert/bert-base-uncased@"+first); err != nil {
		t.Fatal(err)
	}
	next := bertRepo()
	for i, f := range next.Files {
		if f.Path == "README.md" {
			next.Files[i].Data = append(append([]byte(nil), f.Data...), "\nv2\n"...)
		}
	}
	second := h.MustPush(t, next)
	m, err := hubtest.Fetch(t, a, "hf/google-bert/bert-base-uncased@latest")
	if err != nil {
		t.Fatal(err)
	}
	if second == first || m.Revision != second || m.Downloaded != 1 || m.Cached != len(m.Files)-1 {
		t.Fatalf("revision %s (first %s): downloaded %d, cached %d", m.Revision, first, m.Downloaded, m.Cached)
	}
}
