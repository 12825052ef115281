package hubtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
)

// Fetch parses ref (failing the test if it does not parse) and fetches it with
// a into a fresh directory: the one call every adapter test makes.
func Fetch(t testing.TB, a adapters.Adapter, ref string) (*adapters.Model, error) {
	t.Helper()
	r, err := adapters.ParseRef(ref)
	if err != nil {
		t.Fatal(err)
	}
	return a.Fetch(context.Background(), r, filepath.Join(t.TempDir(), "model"))
}
