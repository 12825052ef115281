// Package reference parses the two kinds of package references axon takes:
//
//   - axon style, a package in the local store: NAMESPACE/NAME[@VERSION|@sha256:...]
//     (hf/bert-base-uncased@latest; the version defaults to "latest"; ':' works as
//     well as '@' before a version, for docker habits);
//   - OCI style, a package in a registry: HOST[:PORT]/REPO[:TAG|@sha256:...]
//     (localhost:5000/team/bert:1.0). The first component names a host when it
//     contains '.' or ':' or is "localhost", as with docker.
package reference

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry"
)

// DefaultVersion is the version of an axon reference that names none.
const DefaultVersion = "latest"

// Ref is a parsed reference.
type Ref struct {
	// Registry is the host[:port] of an OCI-style reference; "" for a local one.
	Registry string
	// Repository is NAMESPACE/NAME for axon refs, the repository path for OCI refs.
	Repository string
	// Tag is the version (axon) or tag (OCI); "" when the reference is by digest only.
	Tag string
	// Digest is set for references by digest.
	Digest digest.Digest
}

var (
	component = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	repoRE    = regexp.MustCompile(`^` + component + `(?:/` + component + `)*$`)
	tagRE     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
	hostRE    = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$`)
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid reference")

func invalid(s, why string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalid, s, why)
}

// Parse parses an axon-style or OCI-style reference.
func Parse(s string) (Ref, error) {
	if err := checkText(s); err != nil {
		return Ref{}, err
	}
	// hf://ORG/NAME, hf.co/ORG/NAME, ms://...: the package installed from there.
	if hub, ok := HubSpelling(s); ok {
		s = strings.ToLower(hub)
	}
	if scheme, _, ok := strings.Cut(s, "://"); ok && !strings.ContainsAny(scheme, "/@:") {
		return Ref{}, invalid(s, "write it without "+scheme+"://, as HOST[:PORT]/REPOSITORY[:TAG] (--plain-http for HTTP)")
	}
	first, _, hasSlash := strings.Cut(s, "/")
	if hasSlash && isHost(first) {
		return parseOCI(s)
	}
	return parseLocal(s)
}

func checkText(s string) error {
	if s == "" {
		return invalid(s, "empty")
	}
	if len(s) > 1024 {
		return invalid(s[:32]+"...", "longer than 1024 characters")
	}
	if strings.ContainsAny(s, " \t\r\n\x00") {
		return invalid(s, "contains white space")
	}
	return nil
}

// ParseOCI parses HOST[:PORT]/REPO[:TAG][@DIGEST] taking the first component as
// the registry host whatever it looks like ("registry/team/bert:1", a cluster's
// service name, names a host here), for programs such as mlosd that only ever
// pull from registries. A reference with both keeps both: the digest is what
// is pulled, the tag is what the user wrote. No tag and no digest means
// "latest".
func ParseOCI(s string) (Ref, error) {
	if err := checkText(s); err != nil {
		return Ref{}, err
	}
	if !strings.Contains(s, "/") {
		return Ref{}, invalid(s, "write HOST[:PORT]/REPOSITORY[:TAG] or HOST[:PORT]/REPOSITORY@sha256:...")
	}
	return parseOCI(s)
}

// ParseRemote parses an OCI-style reference (HOST/REPO[:TAG|@DIGEST]).
func ParseRemote(s string) (Ref, error) {
	r, err := Parse(s)
	if err != nil {
		return Ref{}, err
	}
	if !r.IsRemote() {
		return Ref{}, invalid(s, "not a registry reference; write HOST[:PORT]/REPOSITORY[:TAG], e.g. localhost:5000/hf/bert:1.0")
	}
	return r, nil
}

// ParseLocal parses an axon-style reference (NAMESPACE/NAME[@VERSION]).
func ParseLocal(s string) (Ref, error) {
	r, err := Parse(s)
	if err != nil {
		return Ref{}, err
	}
	if r.IsRemote() {
		return Ref{}, invalid(s, "a registry reference where a local package name (NAMESPACE/NAME@VERSION) is expected")
	}
	return r, nil
}

func isHost(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

func parseOCI(s string) (Ref, error) {
	if host, _, _ := strings.Cut(s, "/"); !hostRE.MatchString(host) {
		return Ref{}, invalid(s, fmt.Sprintf("%q is not a registry host[:port]", host))
	}
	r, err := registry.ParseReference(s)
	if err != nil {
		return Ref{}, invalid(s, strings.TrimPrefix(cleanORASError(err), s+": "))
	}
	out := Ref{Registry: r.Registry, Repository: r.Repository}
	if d, err := r.Digest(); err == nil {
		out.Digest = d
		// registry.ParseReference keeps only the digest of repo:tag@digest.
		if i := strings.LastIndex(s, "@"); i > 0 {
			if j := strings.LastIndex(s[:i], ":"); j > strings.LastIndex(s[:i], "/") {
				out.Tag = s[j+1 : i]
				if !tagRE.MatchString(out.Tag) {
					return Ref{}, invalid(s, fmt.Sprintf("%q is not a valid tag", out.Tag))
				}
			}
		}
	} else if r.Reference != "" {
		out.Tag = r.Reference
	}
	if out.Tag == "" && out.Digest == "" {
		out.Tag = DefaultVersion
	}
	return out, nil
}

func cleanORASError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": invalid reference"); i >= 0 {
		msg = msg[:i] + msg[i+len(": invalid reference"):]
	}
	return strings.TrimSpace(strings.TrimPrefix(msg, "invalid reference:"))
}

func parseLocal(s string) (Ref, error) {
	repo, ver := s, ""
	var dgst digest.Digest
	if i := strings.Index(s, "@"); i >= 0 {
		repo, ver = s[:i], s[i+1:]
		if strings.Contains(ver, ":") {
			d, err := digest.Parse(ver)
			if err != nil {
				return Ref{}, invalid(s, "bad digest: "+err.Error())
			}
			dgst, ver = d, ""
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		repo, ver = s[:i], s[i+1:]
	}
	if !strings.Contains(repo, "/") {
		return Ref{}, invalid(s, "write NAMESPACE/NAME[@VERSION], e.g. hf/bert-base-uncased@latest, or HOST/REPOSITORY[:TAG] for a registry")
	}
	if !repoRE.MatchString(repo) {
		return Ref{}, invalid(s, "the name takes lower-case letters, digits and . _ - separators between '/'")
	}
	if len(repo) > 255 {
		return Ref{}, invalid(s, "name longer than 255 characters")
	}
	if dgst == "" {
		if ver == "" {
			if strings.HasSuffix(s, "@") || strings.HasSuffix(s, ":") {
				return Ref{}, invalid(s, "empty version")
			}
			ver = DefaultVersion
		}
		if !tagRE.MatchString(ver) {
			return Ref{}, invalid(s, "a version takes letters, digits, '.', '_' and '-' (at most 128, not starting with '.' or '-')")
		}
	}
	return Ref{Repository: repo, Tag: ver, Digest: dgst}, nil
}

// IsRemote reports whether the reference names a registry.
func (r Ref) IsRemote() bool { return r.Registry != "" }

// Namespace is the first component of an axon repository ("hf").
func (r Ref) Namespace() string {
	ns, _, _ := strings.Cut(r.Repository, "/")
	return ns
}

// Name is the repository after the namespace ("bert-base-uncased").
func (r Ref) Name() string {
	_, name, _ := strings.Cut(r.Repository, "/")
	return name
}

// Reference is the tag, or the digest when there is no tag (for registry calls).
func (r Ref) Reference() string {
	if r.Digest != "" {
		return r.Digest.String()
	}
	return r.Tag
}

// String is the canonical form: NAMESPACE/NAME@VERSION for local refs,
// HOST/REPO:TAG or HOST/REPO@DIGEST for registry refs.
func (r Ref) String() string {
	if !r.IsRemote() {
		if r.Digest != "" {
			return r.Repository + "@" + r.Digest.String()
		}
		return r.Repository + "@" + r.Tag
	}
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// RepositoryURL is HOST/REPO for registry refs (the form Remotes records).
func (r Ref) RepositoryURL() string {
	if !r.IsRemote() {
		return r.Repository
	}
	return r.Registry + "/" + r.Repository
}

// WithTag returns the reference with another tag and no digest.
func (r Ref) WithTag(tag string) Ref {
	r.Tag, r.Digest = tag, ""
	return r
}

// ValidTag reports whether s is a valid version/tag.
func ValidTag(s string) bool { return tagRE.MatchString(s) }

// ValidRepository reports whether s is a valid NAMESPACE/NAME or repository path.
func ValidRepository(s string) bool { return repoRE.MatchString(s) && len(s) <= 255 }
