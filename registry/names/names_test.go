package names

import (
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestNames(t *testing.T) {
	for _, ok := range []string{"a", "hf/bert-base-uncased", "a.b_c__d---e/f0", "conformance/repo1"} {
		if !ValidName(ok) {
			t.Errorf("ValidName(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "A", "a//b", "/a", "a/", "a..b", "_a", "a/_manifests", "a b", strings.Repeat("a", 256), "a/../b"} {
		if ValidName(bad) {
			t.Errorf("ValidName(%q) = true", bad)
		}
	}
	for _, ok := range []string{"latest", "v1.0.0", "_x", "A-b.C_d"} {
		if !ValidTag(ok) {
			t.Errorf("ValidTag(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "-x", ".x", "a/b", "a:b", strings.Repeat("t", 129)} {
		if ValidTag(bad) {
			t.Errorf("ValidTag(%q) = true", bad)
		}
	}
}

func TestParseDigest(t *testing.T) {
	good := []digest.Digest{digest.FromString("x"), digest.SHA512.FromString("x")}
	for _, d := range good {
		if got, err := ParseDigest(d.String()); err != nil || got != d {
			t.Errorf("ParseDigest(%s) = %v, %v", d, got, err)
		}
	}
	for _, bad := range []string{"", "sha256", "sha256:", ":abc", "sha256:abc", "sha256:" + strings.Repeat("A", 64), "sha512:" + strings.Repeat("0", 64), "md5:d41d8cd98f00b204e9800998ecf8427e"} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) accepted", bad)
		}
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add(digest.FromString("x").String())
	f.Add(digest.SHA512.FromString("x").String())
	f.Add("sha384:abc")
	f.Add("sha256:" + strings.Repeat("g", 64))
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			return
		}
		// an accepted digest is canonical, supported and round-trips
		if d.String() != s || d.Validate() != nil {
			t.Fatalf("accepted %q as %q", s, d)
		}
		if a := d.Algorithm(); a != digest.SHA256 && a != digest.SHA512 {
			t.Fatalf("accepted algorithm %q", a)
		}
	})
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"latest", "v1", digest.FromString("x").String(), "a:b", "", "-", strings.Repeat("x", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseReference(s)
		if err != nil {
			return
		}
		if (ref.Tag == "") == (ref.Digest == "") {
			t.Fatalf("%q: exactly one of tag/digest must be set: %+v", s, ref)
		}
		if ref.String() != s {
			t.Fatalf("%q round-trips to %q", s, ref.String())
		}
		if ref.Tag != "" && (strings.ContainsAny(ref.Tag, "/:\x00") || len(ref.Tag) > 128) {
			t.Fatalf("unsafe tag accepted: %q", ref.Tag)
		}
	})
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"a", "hf/bert", "a/../b", "a//b", "A", "x.y-z/w__v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidName(s) {
			return
		}
		// accepted names are safe to use as storage path elements
		for _, el := range strings.Split(s, "/") {
			if el == "" || el == "." || el == ".." || strings.HasPrefix(el, "_") || strings.ContainsAny(el, "\\\x00 ") {
				t.Fatalf("unsafe name accepted: %q", s)
			}
		}
		if len(s) > MaxNameLength {
			t.Fatalf("over-long name accepted")
		}
	})
}
