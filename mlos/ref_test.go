package mlos_test

import (
	"net/http"
	"testing"

	"github.com/mlos-foundation/axon/mlos"
)

// mlosd parses registry references with axon's parser: tag@digest keeps the
// tag for the record and pulls the digest; Pinned is the digest alone.
func TestParseRef(t *testing.T) {
	const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		in, str, pinned string
	}{
		{"localhost:5000/hf/bert:1.0", "localhost:5000/hf/bert:1.0", "localhost:5000/hf/bert"},
		{"localhost:5000/hf/bert:v2@" + d, "localhost:5000/hf/bert:v2@" + d, "localhost:5000/hf/bert@" + d},
		{"[::1]:5000/team/bert@" + d, "[::1]:5000/team/bert@" + d, "[::1]:5000/team/bert@" + d},
		{"foo.localhost/team/bert", "foo.localhost/team/bert:latest", "foo.localhost/team/bert"},
		{"registry/hf/bert:1", "registry/hf/bert:1", "registry/hf/bert"},
		{"oci-layout:///data/store@" + d, "oci-layout:///data/store@" + d, "oci-layout:///data/store@" + d},
		{"oci-layout:///data/store:v1", "oci-layout:///data/store:v1", "oci-layout:///data/store"},
	} {
		r, err := mlos.ParseRef(tc.in)
		if err != nil {
			t.Errorf("ParseRef(%q): %v", tc.in, err)
			continue
		}
		if r.String() != tc.str || r.Pinned() != tc.pinned {
			t.Errorf("ParseRef(%q) = %q pinned %q, want %q pinned %q", tc.in, r.String(), r.Pinned(), tc.str, tc.pinned)
		}
	}
	for _, in := range []string{"", "bert", "localhost:5000/UPPER:1", "localhost:5000/a/b:bad!tag@" + d, "localhost:5000/a@sha256:abc"} {
		if _, err := mlos.ParseRef(in); err == nil || mlos.StatusOf(err) != http.StatusBadRequest {
			t.Errorf("ParseRef(%q) = %v, want a 400", in, err)
		}
	}
}
