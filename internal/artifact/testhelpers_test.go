package artifact

import (
	"testing"

	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
)

// modelDir is artifacttest.ModelDir with original weights.
func modelDir(t testing.TB) string {
	t.Helper()
	dir := artifacttest.ModelDir(t, 7)
	write(t, dir, "original/pytorch_model.bin", "not really torch weights")
	return dir
}

var (
	write    = artifacttest.WriteFile
	sameTree = artifacttest.SameTree
)
