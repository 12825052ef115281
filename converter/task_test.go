package converter

import (
	"os"
	"path/filepath"
	"testing"
)

// The Python script gets its task and head from Go: a transformers checkpoint
// without a task exports the head its architecture names, the one the
// manifest's task (schemas.TaskFromArchitectures) will promise.
func TestScriptTask(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"architectures": ["BertForSequenceClassification"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in              Input
		task, autoClass string
	}{
		{Input{Kind: KindTransformers}, "text-classification", "AutoModelForSequenceClassification"},
		{Input{Kind: KindTransformers, Task: "sentence-similarity"}, "sentence-similarity", "AutoModel"},
		{Input{Kind: KindTransformers, Task: "fill-mask"}, "fill-mask", "AutoModelForMaskedLM"},
		{Input{Kind: KindHubconf, Task: "image-classification"}, "image-classification", ""},
	} {
		task, head, err := scriptTask(c.in, dir)
		if err != nil || task != c.task || (head == nil) != (c.autoClass == "") || (head != nil && head.AutoClass != c.autoClass) {
			t.Errorf("%+v: task %q head %+v %v; want %q %q", c.in, task, head, err, c.task, c.autoClass)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`[1]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := scriptTask(Input{Kind: KindTransformers}, dir); err == nil {
		t.Error("a config.json that is no object: no error")
	}
}
