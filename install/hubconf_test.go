package install_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/converter"
	"github.com/mlos-foundation/axon/install"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/schemas"
)

// localHubconf is a PyTorch Hub directory with nothing but its hubconf.py:
// one entrypoint, random weights (nothing to download).
const localHubconf = `dependencies = ["torch"]

import torch
from torch import nn


def tinynet(**kwargs):
    """3x224x224 image in, 3 logits out."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()
`

// A local directory that holds only hubconf.py installs: the local adapter
// detects it as the converter does (schemas.Detect) and names its one
// entrypoint; the local adapter used to refuse it.
func TestInstallLocalHubconfOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs torch")
	}
	py := testutil.Python(t)
	testutil.ORTLibrary(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "hubconf.py"), []byte(localHubconf), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := install.Options{Home: t.TempDir(), Converter: converter.Options{Backend: converter.BackendLocal, Python: py}}
	res, err := install.Install(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Manifest
	if res.Model.Kind != schemas.KindHubconf || res.Model.Entrypoint != "tinynet" || m.Framework.Name != "pytorch" || m.Source.Hub != "local" {
		t.Errorf("kind %q entrypoint %q framework %+v source %+v", res.Model.Kind, res.Model.Entrypoint, m.Framework, m.Source)
	}
	if m.Validation == nil || !m.Validation.Passed {
		t.Fatalf("validation = %+v, want ONNX Runtime to agree with torch", m.Validation)
	}
	if len(m.IO.Inputs) != 1 || len(m.IO.Inputs[0].Shape) != 4 || len(m.IO.Outputs) != 1 {
		t.Errorf("io = %+v", m.IO)
	}
}
