// Package names validates what clients put in registry URLs: repository names,
// tags, digests and manifest references, as the OCI Distribution Spec v1.1 defines them.
// Every check is a plain function over strings so it can be fuzzed and never panics.
package names

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"

	_ "crypto/sha256" // registers sha256 for go-digest
	_ "crypto/sha512" // registers sha512 for go-digest
)

// MaxNameLength bounds a repository name (the spec's 255 for host+name).
const MaxNameLength = 255

var (
	nameComponent = `[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*`
	nameRE        = regexp.MustCompile(`^` + nameComponent + `(?:/` + nameComponent + `)*$`)
	tagRE         = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	algRE         = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$`)
)

// Errors callers map to spec error codes.
var (
	ErrName        = errors.New("invalid repository name")
	ErrTag         = errors.New("invalid tag")
	ErrDigest      = errors.New("invalid digest")
	ErrUnsupported = errors.New("unsupported digest algorithm")
)

// ValidName reports whether s is a valid repository name.
func ValidName(s string) bool {
	return len(s) > 0 && len(s) <= MaxNameLength && nameRE.MatchString(s)
}

// CheckName returns ErrName (wrapped) for an invalid repository name.
func CheckName(s string) error {
	if !ValidName(s) {
		return fmt.Errorf("%w: %q", ErrName, clip(s))
	}
	return nil
}

// ValidTag reports whether s is a valid tag.
func ValidTag(s string) bool { return tagRE.MatchString(s) }

// Supported are the digest algorithms the registry stores and verifies.
var Supported = []digest.Algorithm{digest.SHA256, digest.SHA512}

// ParseDigest parses and validates "alg:hex" for a supported algorithm.
func ParseDigest(s string) (digest.Digest, error) {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok || alg == "" || hex == "" {
		return "", fmt.Errorf("%w: %q", ErrDigest, clip(s))
	}
	switch digest.Algorithm(alg) {
	case digest.SHA256, digest.SHA512:
	default:
		// a well-formed digest of another algorithm is "unsupported", not malformed
		if algRE.MatchString(alg) && isHex(hex) {
			return "", fmt.Errorf("%w: %q", ErrUnsupported, alg)
		}
		return "", fmt.Errorf("%w: %q", ErrDigest, clip(s))
	}
	d := digest.Digest(s)
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrDigest, clip(s), err)
	}
	return d, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return len(s) > 0
}

// Reference is a manifest reference from a URL: exactly one of Tag or Digest is set.
type Reference struct {
	Tag    string
	Digest digest.Digest
}

func (r Reference) String() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

// ParseReference parses the <reference> of /v2/<name>/manifests/<reference>.
func ParseReference(s string) (Reference, error) {
	if strings.Contains(s, ":") {
		d, err := ParseDigest(s)
		if err != nil {
			return Reference{}, err
		}
		return Reference{Digest: d}, nil
	}
	if !ValidTag(s) {
		return Reference{}, fmt.Errorf("%w: %q", ErrTag, clip(s))
	}
	return Reference{Tag: s}, nil
}

// clip keeps hostile input out of logs and error bodies at a sane length.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
