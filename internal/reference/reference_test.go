package reference

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		in, want string
		remote   bool
	}{
		{"hf/bert-base-uncased@latest", "hf/bert-base-uncased@latest", false},
		{"hf/bert-base-uncased", "hf/bert-base-uncased@latest", false},
		{"hf/bert:1.0", "hf/bert@1.0", false},
		{"hf/google/vit-base@v1", "hf/google/vit-base@v1", false},
		{"hf/bert@" + d, "hf/bert@" + d, false},
		{"localhost:5000/hf/bert:1.0", "localhost:5000/hf/bert:1.0", true},
		{"localhost/team/bert", "localhost/team/bert:latest", true},
		{"registry.example.com/team/bert:1.0", "registry.example.com/team/bert:1.0", true},
		{"127.0.0.1:5000/a/b@" + d, "127.0.0.1:5000/a/b@" + d, true},
		{"127.0.0.1:5000/a/b:v2@" + d, "127.0.0.1:5000/a/b:v2@" + d, true},
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if r.String() != tc.want || r.IsRemote() != tc.remote {
			t.Errorf("Parse(%q) = %q remote=%v, want %q remote=%v", tc.in, r.String(), r.IsRemote(), tc.want, tc.remote)
		}
		again, err := Parse(r.String())
		if err != nil || again != r {
			t.Errorf("canonical form %q does not parse back: %+v %v", r.String(), again, err)
		}
	}
	r, _ := Parse("hf/google/vit-base@v1")
	if r.Namespace() != "hf" || r.Name() != "google/vit-base" {
		t.Errorf("namespace/name = %q/%q", r.Namespace(), r.Name())
	}
}

func TestParseBad(t *testing.T) {
	for _, in := range []string{
		"", "bert", "HF/Bert@1", "hf/bert@", "hf/bert@-x", "hf/bert@sha256:abc", "hf//bert",
		"hf/bert@1 0", "../etc/passwd", "/abs/path", "localhost:5000/", "localhost:5000/UPPER:1",
		"localhost:5000/a/b:bad tag", "hf/bert@" + strings.Repeat("x", 200),
	} {
		if r, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, r)
		} else if strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("Parse(%q): error is not one line: %q", in, err)
		}
	}
	// A URL, as copied from a browser: say to drop the scheme.
	for _, in := range []string{"http://localhost:5000/a/b:1", "https://ghcr.io/a/b:1"} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), "without http") {
			t.Errorf("Parse(%q): %v, want a hint to drop the scheme", in, err)
		}
	}
	if _, err := ParseRemote("hf/bert@1"); err == nil {
		t.Error("ParseRemote accepted a local ref")
	}
	if _, err := ParseLocal("localhost:5000/a/b:1"); err == nil {
		t.Error("ParseLocal accepted a remote ref")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"hf/bert@latest", "localhost:5000/a/b:1", "a/b@sha256:00", "x.io/a@sha256:" + strings.Repeat("a", 64), "a/b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		// Whatever parses has a canonical form that parses to the same thing.
		again, err := Parse(r.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok but its canonical form %q fails: %v", s, r.String(), err)
		}
		if again != r {
			t.Fatalf("Parse(%q) = %+v, canonical %q parses to %+v", s, r, r.String(), again)
		}
		if r.Repository == "" || (r.Tag == "" && r.Digest == "") {
			t.Fatalf("Parse(%q) = %+v: incomplete", s, r)
		}
	})
}
