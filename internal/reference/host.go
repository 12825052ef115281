package reference

import (
	"net"
	"strings"
)

// IsLoopback reports whether a registry host[:port] names this machine:
// "localhost" and its subdomains (RFC 6761 keeps *.localhost on the loopback),
// 127.0.0.0/8 and ::1, with or without a port, IPv6 with or without brackets
// ("[::1]:5000", "[::1]", "::1"). axon and mlosd speak plain HTTP to such
// registries without being asked, as docker does; this is the one rule both use.
func IsLoopback(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// HasHost reports whether s starts with a registry host (a first component
// with a dot, a port or localhost), the rule Parse uses to tell a registry
// reference from a package name. It answers for strings Parse would refuse
// too, so callers can route a malformed registry reference to the registry's
// own error instead of the local store's.
func HasHost(s string) bool {
	first, _, ok := strings.Cut(s, "/")
	return ok && isHost(first)
}
