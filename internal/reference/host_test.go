package reference

import (
	"strings"
	"testing"
)

// One loopback rule for axon and mlosd (both speak plain HTTP to these).
func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "LOCALHOST:5000": true, "localhost.": true,
		"foo.localhost": true, "foo.localhost:5000": true, "a.b.localhost": true,
		"127.0.0.1": true, "127.0.0.1:5000": true, "127.1.2.3:80": true,
		"[::1]": true, "[::1]:5000": true, "::1": true,
		"notlocalhost": false, "localhost.example.com": false, "foolocalhost:5000": false,
		"128.0.0.1": false, "10.0.0.1:5000": false, "[::2]:5000": false, "ghcr.io": false, "": false,
		"[::ffff:127.0.0.1]:5000": true, "0.0.0.0:5000": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// ParseOCI takes the first component as the host, keeps both halves of
// tag@digest and parses the hosts IsLoopback knows.
func TestParseOCI(t *testing.T) {
	const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		in                      string
		registry, repo, tag, dg string
	}{
		{"localhost:5000/hf/bert:1.0", "localhost:5000", "hf/bert", "1.0", ""},
		{"localhost:5000/hf/bert", "localhost:5000", "hf/bert", DefaultVersion, ""},
		{"localhost:5000/hf/bert@" + d, "localhost:5000", "hf/bert", "", d},
		{"localhost:5000/hf/bert:v2@" + d, "localhost:5000", "hf/bert", "v2", d},
		{"[::1]:5000/team/bert:1", "[::1]:5000", "team/bert", "1", ""},
		{"[::1]:5000/team/bert:1@" + d, "[::1]:5000", "team/bert", "1", d},
		{"foo.localhost/team/bert:1", "foo.localhost", "team/bert", "1", ""},
		{"127.0.0.2:5000/a/b@" + d, "127.0.0.2:5000", "a/b", "", d},
		// A cluster's service name, without a dot or a port, is a host here.
		{"registry/hf/bert:1", "registry", "hf/bert", "1", ""},
	} {
		r, err := ParseOCI(tc.in)
		if err != nil {
			t.Errorf("ParseOCI(%q): %v", tc.in, err)
			continue
		}
		if r.Registry != tc.registry || r.Repository != tc.repo || r.Tag != tc.tag || string(r.Digest) != tc.dg {
			t.Errorf("ParseOCI(%q) = %+v, want %s %s %q %q", tc.in, r, tc.registry, tc.repo, tc.tag, tc.dg)
		}
		if r.String() != tc.in && !strings.HasSuffix(r.String(), ":"+DefaultVersion) {
			t.Errorf("ParseOCI(%q).String() = %q", tc.in, r.String())
		}
		// The general parser reads registry references the same way.
		if tc.registry != "registry" {
			if g, err := Parse(tc.in); err != nil || g != r {
				t.Errorf("Parse(%q) = %+v, %v; ParseOCI gave %+v", tc.in, g, err, r)
			}
		}
	}
	for _, in := range []string{
		"", "bert", "localhost:5000/", "localhost:5000/UPPER:1", "localhost:5000/a/b:bad!tag@" + d,
		"localhost:5000/a/b@sha256:abc", "local host/a/b", "http://localhost:5000/a/b",
	} {
		if r, err := ParseOCI(in); err == nil {
			t.Errorf("ParseOCI(%q) = %+v, want an error", in, r)
		}
	}
}

// HasHost is Parse's rule: where both answer, they agree, and HasHost also
// answers for references Parse refuses.
func TestHasHost(t *testing.T) {
	for s, want := range map[string]bool{
		"localhost:5000/hf/bert:1": true,
		"localhost/a/b":            true,
		"registry.example.com/a":   true,
		"[::1]:5000/a/b:1":         true,
		"hf/bert-base-uncased@1":   false,
		"bert":                     false,
		"localhost":                false, // no repository: not a reference to a registry
		"localhost:5000/Bad Name":  true,  // refused by Parse, still aimed at a registry
	} {
		if got := HasHost(s); got != want {
			t.Errorf("HasHost(%q) = %v, want %v", s, got, want)
		}
		if r, err := Parse(s); err == nil && r.IsRemote() != want {
			t.Errorf("Parse(%q).IsRemote() = %v, HasHost %v", s, r.IsRemote(), want)
		}
	}
}
