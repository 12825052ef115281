package mlos_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/mlos"
)

func TestParseModelFlag(t *testing.T) {
	for in, want := range map[string]mlos.DeclaredModel{
		"reg:5000/hf/bert@sha256:" + strings.Repeat("a", 64):               {Ref: "reg:5000/hf/bert@sha256:" + strings.Repeat("a", 64)},
		"reg:5000/hf/bert:1.0=bert":                                        {Ref: "reg:5000/hf/bert:1.0", Name: "bert"},
		"oci-layout:///srv/store@sha256:" + strings.Repeat("b", 64) + "=x": {Ref: "oci-layout:///srv/store@sha256:" + strings.Repeat("b", 64), Name: "x"},
	} {
		got, err := mlos.ParseModelFlag(in)
		if err != nil || got.Ref != want.Ref || got.Name != want.Name {
			t.Errorf("ParseModelFlag(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "reg/x:1=", "UPPER CASE/ref"} {
		if _, err := mlos.ParseModelFlag(bad); err == nil {
			t.Errorf("ParseModelFlag(%q) accepted", bad)
		}
	}
}

func TestReadModelsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "models.yaml")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ms, err := mlos.ReadModelsFile(write(`models:
  - ref: reg:5000/hf/bert:1.0
    name: bert
    options: {maxBatchSize: 16, maxQueueDelay: 2ms, intraOpThreads: 2}
  - dir: packages/tiny
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "bert" || *ms[0].Options.MaxBatchSize != 16 || *ms[0].Options.MaxQueueDelay != 2*time.Millisecond || *ms[0].Options.IntraOpThreads != 2 {
		t.Fatalf("read %+v", ms)
	}
	if ms[1].Dir != filepath.Join(dir, "packages/tiny") {
		t.Errorf("a relative dir is taken from the file's folder: %s", ms[1].Dir)
	}
	if ms, err := mlos.ReadModelsFile(write("")); err != nil || len(ms) != 0 {
		t.Errorf("an empty file: %v %v", ms, err)
	}
	for body, want := range map[string]string{
		"models:\n  - ref: reg/x:1\n    nmae: x\n":                "nmae",
		"models:\n  - name: x\n":                                  "exactly one of ref and dir",
		"models:\n  - ref: reg/x:1\n    dir: /x\n":                "exactly one of ref and dir",
		"models:\n  - ref: 'Not A Ref'\n":                         "model 1",
		"models:\n  - ref: reg/x:1\n    options: {maxBatch: 3}\n": "maxBatch",
	} {
		_, err := mlos.ReadModelsFile(write(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %q", body, err, want)
		}
	}
	if _, err := mlos.ReadModelsFile(filepath.Join(dir, "absent.yaml")); err == nil {
		t.Error("a missing file is accepted")
	}
}
