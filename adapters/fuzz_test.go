package adapters_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/download"
)

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"hf/bert-base-uncased@latest", "pytorch/pytorch/vision/resnet50@v0.16.0", "tfhub/google/m/5",
		"modelscope/damo/x@master", "file:///x", "./a", "hf/a/../b", "hf/a@refs/pr/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := adapters.ParseRef(s)
		if err != nil {
			return
		}
		if r.Hub != adapters.HubLocal {
			for _, p := range strings.Split(r.ID, "/") {
				if p == "" || p == "." || p == ".." {
					t.Fatalf("%q: id %q has a bad element", s, r.ID)
				}
			}
		}
	})
}

func FuzzSafeJoin(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "/etc", "a/../../b", "a\\b", "onnx/model.onnx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		dir := "/tmp/target"
		p, err := download.SafeJoin(dir, rel)
		if err != nil {
			return
		}
		if r, err := filepath.Rel(dir, p); err != nil || r == "." || r == ".." || strings.HasPrefix(r, "../") {
			t.Fatalf("SafeJoin(%q) = %q escapes %s", rel, p, dir)
		}
	})
}
