package reference

import "strings"

// HasHost reports whether s starts with a registry host (a first component
// with a dot, a port or localhost), the rule Parse uses to tell a registry
// reference from a package name. It answers for strings Parse would refuse
// too, so callers can route a malformed registry reference to the registry's
// own error instead of the local store's.
func HasHost(s string) bool {
	first, _, ok := strings.Cut(s, "/")
	return ok && isHost(first)
}
