package modelscope

import "github.com/mlos-foundation/axon/adapters"

func init() {
	const form = "modelscope/OWNER/NAME@REV"
	adapters.RegisterHub(adapters.Grammar{Hub: adapters.HubModelScope, Form: form, Parse: adapters.ElementCounts(form, 2)})
}
