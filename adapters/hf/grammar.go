package hf

import (
	"errors"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
)

const form = "hf/ORG/NAME@REV or hf/NAME@REV"

func init() {
	adapters.RegisterHub(adapters.Grammar{Hub: adapters.HubHF, Form: form, SlashedVersions: true, Parse: parseRef})
}

// parseRef: ORG/NAME or a legacy NAME; the revision is a branch, tag, commit
// or refs/pr/N.
func parseRef(parts []string, version string) (string, string, error) {
	id, version, err := adapters.ElementCounts(form, 1, 2)(parts, version)
	if err == nil && strings.HasPrefix(version, "/") {
		return "", "", errors.New("malformed version")
	}
	return id, version, err
}
