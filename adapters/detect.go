package adapters

import "github.com/mlos-foundation/axon/schemas"

// Detect fills Framework and Kind from the fetched files when the adapter has
// not, by schemas.Detect: the rule the converter applies too, so that what an
// adapter accepts is what the converter can convert.
func Detect(m *Model) {
	if m.Framework != "" && m.Kind != "" {
		return
	}
	if kind, fw := schemas.Detect(m.Dir, m.Files); kind != "" {
		m.Kind, m.Framework = kind, fw
	}
}
