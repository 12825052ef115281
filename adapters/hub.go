package adapters

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Grammar is how one hub's references are written, registered by the hub's
// adapter package (in its init) so that ParseRef holds no hub's rules: a
// hub is known to a program that links its adapter.
type Grammar struct {
	Hub  string // the hub name references start with: hf, pytorch...
	Form string // how its references are written, for messages
	// SlashedVersions: a version may contain '/' (HF revisions: refs/pr/1).
	SlashedVersions bool
	// Parse checks the id's path elements (each non-empty, no "." or "..")
	// and the version after '@' ("" when none), and answers the id and
	// version to fetch; its error says what is malformed.
	Parse func(parts []string, version string) (id, ver string, err error)
}

var hubs sync.Map // hub name → Grammar

// RegisterHub makes ParseRef know a hub; registering a name twice panics
// (two adapters claiming one hub is a programming error).
func RegisterHub(g Grammar) {
	if g.Hub == "" || g.Parse == nil {
		panic("adapters: RegisterHub needs a hub name and a Parse function")
	}
	if _, dup := hubs.LoadOrStore(g.Hub, g); dup {
		panic("adapters: hub " + g.Hub + " registered twice")
	}
}

func lookupHub(name string) (Grammar, bool) {
	g, ok := hubs.Load(name)
	if !ok {
		return Grammar{}, false
	}
	return g.(Grammar), true
}

// Hubs are the registered hub names, sorted.
func Hubs() []string {
	var names []string
	hubs.Range(func(k, _ any) bool {
		names = append(names, k.(string))
		return true
	})
	sort.Strings(names)
	return names
}

// ElementCounts is a Parse for hubs whose ids are a fixed number of path
// elements (ORG/NAME...): any of counts, the version as given.
func ElementCounts(form string, counts ...int) func([]string, string) (string, string, error) {
	return func(parts []string, version string) (string, string, error) {
		for _, n := range counts {
			if len(parts) == n {
				return strings.Join(parts, "/"), version, nil
			}
		}
		return "", "", fmt.Errorf("expected %s", form)
	}
}
