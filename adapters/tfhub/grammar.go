package tfhub

import (
	"errors"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
)

const form = "tfhub/PUBLISHER/MODEL/VERSION or tfhub/PUBLISHER/MODEL@latest"

func init() {
	adapters.RegisterHub(adapters.Grammar{Hub: adapters.HubTFHub, Form: form, Parse: parseRef})
}

// parseRef: TF Hub handles are PUBLISHER/MODEL/VERSION where MODEL may have
// several elements (google/imagenet/mobilenet_v2_100_224/classification/5);
// the version, a number, may also come after @.
func parseRef(parts []string, version string) (string, string, error) {
	if len(parts) < 2 {
		return "", "", errors.New("expected " + form)
	}
	id := strings.Join(parts, "/")
	if last := parts[len(parts)-1]; len(parts) >= 3 && adapters.IsDigits(last) {
		if version != "" {
			return "", "", errors.New("give the TF Hub version either as a path element or after @, not both")
		}
		version, id = last, strings.Join(parts[:len(parts)-1], "/")
	}
	if version != "" && version != "latest" && !adapters.IsDigits(version) {
		return "", "", errors.New("a TF Hub version is a number")
	}
	return id, version, nil
}
