package adapters_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters"
	// The hubs' reference grammars are registered by their adapter packages.
	_ "github.com/mlos-foundation/axon/adapters/hf"
	_ "github.com/mlos-foundation/axon/adapters/modelscope"
	_ "github.com/mlos-foundation/axon/adapters/pytorch"
	_ "github.com/mlos-foundation/axon/adapters/tfhub"
)

func TestHubsRegistered(t *testing.T) {
	if got := adapters.Hubs(); !slices.Equal(got, []string{"hf", "modelscope", "pytorch", "tfhub"}) {
		t.Errorf("Hubs() = %v", got)
	}
	if _, err := adapters.ParseRef("npm/left-pad"); err == nil || !strings.Contains(err.Error(), `unknown hub "npm" (hubs: hf, modelscope, pytorch, tfhub, or a local directory)`) {
		t.Errorf("unknown hub: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("a hub registered twice did not panic")
		}
	}()
	adapters.RegisterHub(adapters.Grammar{Hub: "hf", Parse: adapters.ElementCounts("hf/X", 1)})
}
