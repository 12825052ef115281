package reference

import "testing"

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
