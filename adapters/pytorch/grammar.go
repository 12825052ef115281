package pytorch

import "github.com/mlos-foundation/axon/adapters"

// A PyTorch Hub model is the entrypoint MODEL of the GitHub repository
// OWNER/REPO at a branch, tag or commit.
func init() {
	const form = "pytorch/OWNER/REPO/MODEL@REF"
	adapters.RegisterHub(adapters.Grammar{Hub: adapters.HubPyTorch, Form: form, Parse: adapters.ElementCounts(form, 3)})
}
