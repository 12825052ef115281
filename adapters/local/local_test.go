package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/adapters/local"
	"github.com/mlos-foundation/axon/schemas"
)

func fetch(t *testing.T, files map[string]string) (*adapters.Model, error) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return local.Adapter{}.Fetch(context.Background(), adapters.Ref{Hub: adapters.HubLocal, ID: dir}, "")
}

// The local adapter accepts what the converter converts: a directory with
// only a hubconf.py is a PyTorch Hub model, its one entrypoint the model.
func TestFetchHubconfOnly(t *testing.T) {
	m, err := fetch(t, map[string]string{"hubconf.py": "dependencies = []\n\n\ndef _helper():\n    pass\n\n\ndef tinynet(pretrained=False):\n    pass\n"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != schemas.KindHubconf || m.Framework != "pytorch" || m.Entrypoint != "tinynet" {
		t.Errorf("kind %q framework %q entrypoint %q", m.Kind, m.Framework, m.Entrypoint)
	}

	_, err = fetch(t, map[string]string{"hubconf.py": "def a():\n    pass\n\ndef b():\n    pass\n"})
	if err == nil || !strings.Contains(err.Error(), "2 entrypoints (a, b)") {
		t.Errorf("two entrypoints: %v", err)
	}
	_, err = fetch(t, map[string]string{"README.md": "# nothing\n"})
	if err == nil || !strings.Contains(err.Error(), "holds no model") {
		t.Errorf("no model: %v", err)
	}
}
