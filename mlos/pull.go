package mlos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/regclient"
	"github.com/mlos-foundation/axon/internal/version"
	"github.com/mlos-foundation/axon/mlos/api"
	"github.com/mlos-foundation/axon/schemas"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// LayoutScheme prefixes references read straight from an OCI image layout on disk.
const LayoutScheme = api.LayoutScheme

// Ref is a parsed package reference.
type Ref struct {
	Layout     string // OCI layout directory (oci-layout://), or ""
	Registry   string // host[:port] for remote references
	Repository string
	Tag        string
	Digest     digest.Digest
}

func (r Ref) String() string {
	var b strings.Builder
	if r.Layout != "" {
		b.WriteString(LayoutScheme + r.Layout)
	} else {
		b.WriteString(r.Registry + "/" + r.Repository)
	}
	if r.Tag != "" {
		b.WriteString(":" + r.Tag)
	}
	if r.Digest != "" {
		b.WriteString("@" + r.Digest.String())
	}
	return b.String()
}

// Pinned is the reference by digest: what registrations record.
func (r Ref) Pinned() string {
	p := r
	p.Tag = ""
	return p.String()
}

// ParseRef parses HOST/REPO[:TAG][@DIGEST] (with axon's reference parser, the
// one rule for tag@digest: the digest is pulled, the tag kept for the record)
// and oci-layout://PATH[:TAG|@DIGEST].
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Ref{}, BadRequest("empty reference")
	}
	if rest, ok := strings.CutPrefix(s, LayoutScheme); ok {
		r := Ref{}
		if i := strings.LastIndex(rest, "@"); i >= 0 {
			d, err := digest.Parse(rest[i+1:])
			if err != nil {
				return Ref{}, BadRequest("reference %q: bad digest: %w", s, err)
			}
			r.Digest, rest = d, rest[:i]
		}
		if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
			r.Tag, rest = rest[i+1:], rest[:i]
		}
		if rest == "" {
			return Ref{}, BadRequest("reference %q has no layout path", s)
		}
		if r.Tag == "" && r.Digest == "" {
			r.Tag = "latest"
		}
		r.Layout = rest
		return r, nil
	}
	pr, err := reference.ParseOCI(s)
	if err != nil {
		return Ref{}, BadRequest("%w (want HOST/REPO:TAG, HOST/REPO@sha256:..., or oci-layout://PATH@sha256:...)", err)
	}
	return Ref{Registry: pr.Registry, Repository: pr.Repository, Tag: pr.Tag, Digest: pr.Digest}, nil
}

// Puller fetches packages into a content-addressed cache (an OCI image layout)
// and unpacks them for execution plugins.
type Puller struct {
	root  string
	cache *oci.Store
	// PlainHTTP names further registry hosts spoken to over plain HTTP
	// (mlosd --plain-http); loopback hosts always are (regclient's rule).
	PlainHTTP func(host string) bool
	reg       *regclient.Client

	// locks serialises pulls of the same reference, so two registrations
	// of one package do not race each other into the cache.
	locksMu sync.Mutex
	locks   map[string]*sync.Mutex
}

func (p *Puller) lock(key string) func() {
	p.locksMu.Lock()
	if p.locks == nil {
		p.locks = map[string]*sync.Mutex{}
	}
	l, ok := p.locks[key]
	if !ok {
		l = &sync.Mutex{}
		p.locks[key] = l
	}
	p.locksMu.Unlock()
	l.Lock()
	return l.Unlock
}

// NewPuller opens (or creates) the cache under dir.
func NewPuller(ctx context.Context, dir string) (*Puller, error) {
	cacheDir := filepath.Join(dir, "cache")
	st, err := oci.NewWithContext(ctx, cacheDir)
	if err != nil {
		return nil, fmt.Errorf("open cache %s: %w", cacheDir, err)
	}
	p := &Puller{root: dir, cache: st}
	// Docker's credential store (config.json, credential helpers); a broken
	// config must not stop anonymous pulls.
	creds, err := regclient.DockerCredentials()
	if err != nil {
		creds = credentials.NewMemoryStore()
	}
	p.reg, err = regclient.New(regclient.Options{
		PlainHosts:  func(host string) bool { return p.PlainHTTP != nil && p.PlainHTTP(host) },
		Credentials: creds,
		UserAgent:   "mlosd/" + version.String(),
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// CacheDir is the OCI layout the puller caches into.
func (p *Puller) CacheDir() string { return filepath.Join(p.root, "cache") }

func (p *Puller) source(ctx context.Context, r Ref) (oras.ReadOnlyTarget, error) {
	if r.Layout != "" {
		fi, err := os.Stat(r.Layout)
		if err != nil || !fi.IsDir() {
			return nil, NotFound("OCI layout %s does not exist", r.Layout)
		}
		st, err := oci.NewFromFS(ctx, os.DirFS(r.Layout))
		if err != nil {
			return nil, BadRequest("read OCI layout %s: %w", r.Layout, err)
		}
		return st, nil
	}
	repo, err := p.reg.Repository(r.Registry + "/" + r.Repository)
	if err != nil {
		return nil, BadRequest("%w", err)
	}
	return repo, nil
}

// resolve opens r's source and resolves r's manifest there: by digest where
// r has one, and then the source must answer that digest.
func (p *Puller) resolve(ctx context.Context, r Ref) (oras.ReadOnlyTarget, ocispec.Descriptor, error) {
	src, err := p.source(ctx, r)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	want := r.Tag
	if r.Digest != "" {
		want = r.Digest.String()
	}
	desc, err := src.Resolve(ctx, want)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return nil, ocispec.Descriptor{}, NotFound("%s not found", r)
		}
		return nil, ocispec.Descriptor{}, BadGateway("resolve %s: %w%s", r, err, authHint(err))
	}
	if r.Digest != "" && desc.Digest != r.Digest {
		return nil, ocispec.Descriptor{}, Unprocessable("%s resolved to %s", r, desc.Digest)
	}
	return src, desc, nil
}

// Pull makes the package behind ref complete in the cache and returns its
// manifest descriptor. A digest already complete in the cache is served
// without touching the source at all.
func (p *Puller) Pull(ctx context.Context, r Ref) (ocispec.Descriptor, error) {
	key := r.Digest.String()
	if key == "" {
		key = r.String()
	}
	defer p.lock(key)()
	if r.Digest != "" {
		if desc, err := p.complete(ctx, r.Digest); err == nil {
			return desc, nil
		}
	}
	src, desc, err := p.resolve(ctx, r)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	// A digest resolved from a layout carries no media type: read it from the
	// manifest itself, verified against the digest.
	raw, err := content.FetchAll(ctx, src, desc)
	if err != nil {
		return ocispec.Descriptor{}, Unprocessable("fetch manifest of %s: %w", r, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return ocispec.Descriptor{}, Unprocessable("%s: manifest is not JSON: %w", r, err)
	}
	if m.MediaType != "" {
		desc.MediaType = m.MediaType
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return ocispec.Descriptor{}, Unprocessable("%s is a %s, not an OCI image manifest of an axon package", r, desc.MediaType)
	}
	if err := checkServable(ctx, src, r, &m); err != nil {
		return ocispec.Descriptor{}, err
	}
	desc = ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	if key != desc.Digest.String() {
		// A tag: also hold the digest, which another registration may be pulling.
		defer p.lock(desc.Digest.String())()
	}
	// oras-go verifies size and digest of every blob on its way into the
	// cache, and skips nodes the cache already holds.
	if err := oras.CopyGraph(ctx, src, p.cache, desc, oras.CopyGraphOptions{Concurrency: 4}); err != nil {
		// Bytes that do not hash to their descriptor are refused (422); a
		// registry that answers with headers contradicting the manifest
		// (oras-go's "mismatch Content-Length", without a sentinel) is an upstream
		// that failed, a 502 like any other.
		if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) {
			return ocispec.Descriptor{}, Unprocessable("pull %s: refused: %w", r, err)
		}
		return ocispec.Descriptor{}, BadGateway("pull %s: %w", r, err)
	}
	return desc, nil
}

// authHint tells the user what to do about a registry that wants a login.
func authHint(err error) string {
	var er *errcode.ErrorResponse
	if errors.Is(err, auth.ErrBasicCredentialNotFound) || (errors.As(err, &er) && (er.StatusCode == http.StatusUnauthorized || er.StatusCode == http.StatusForbidden)) {
		return " (log in where mlosd runs: docker login or axon login; mlosd reads Docker's credential store)"
	}
	return ""
}

// complete returns the manifest descriptor when the manifest and every blob
// it references are in the cache.
func (p *Puller) complete(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	m, raw, err := p.manifest(ctx, d)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, b := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
		ok, err := p.cache.Exists(ctx, b)
		if err != nil || !ok {
			return ocispec.Descriptor{}, fmt.Errorf("blob %s missing", b.Digest)
		}
	}
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(raw))}, nil
}

func (p *Puller) manifest(ctx context.Context, d digest.Digest) (*ocispec.Manifest, []byte, error) {
	f, err := os.Open(p.blobPath(d))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return nil, nil, err
	}
	if digest.FromBytes(raw) != d {
		return nil, nil, fmt.Errorf("cached manifest %s is corrupt", d)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, err
	}
	return &m, raw, nil
}

func (p *Puller) blobPath(d digest.Digest) string {
	return filepath.Join(p.CacheDir(), "blobs", d.Algorithm().String(), d.Encoded())
}

// Package is a pulled, unpacked package.
type Package struct {
	Digest   digest.Digest
	Dir      string
	Manifest *schemas.Manifest
}

// Unpack lays the package's files out under models/<digest>/ (once per
// digest; blobs are hard-linked from the cache where the file system allows)
// and reads its manifest.yaml.
func (p *Puller) Unpack(ctx context.Context, d digest.Digest) (*Package, error) {
	m, raw, err := p.manifest(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", d, err)
	}
	if m.Config.MediaType != schemas.MediaTypeManifest {
		return p.unpackForeign(ctx, d, raw, filepath.Join(p.root, "models", d.Encoded()))
	}
	cfg, err := os.ReadFile(p.blobPath(m.Config.Digest))
	if err != nil {
		return nil, fmt.Errorf("read manifest.yaml: %w", err)
	}
	// The manifest is checked against the schema: a package mlosd cannot
	// trust is refused with the field paths at fault.
	mp, err := schemas.Parse(cfg)
	if err != nil {
		return nil, Unprocessable("manifest.yaml of %s: %w", d, err)
	}
	man := *mp
	// The same path rules as axon's (one function), and manifest.yaml's
	// digests must be the layers' verified bytes.
	if err := artifact.CheckLayerPaths(m.Layers); err != nil {
		return nil, Unprocessable("package %s: %w", d, err)
	}
	if err := artifact.CheckFileDigests(m.Layers, &man); err != nil {
		return nil, Unprocessable("package %s: %w", d, err)
	}
	dir := filepath.Join(p.root, "models", d.Encoded())
	if _, err := os.Stat(dir); err == nil {
		return &Package{Digest: d, Dir: dir, Manifest: &man}, nil
	}
	err = unpackAs(dir, d, func(tmp string) error {
		for _, l := range m.Layers {
			if err := ctx.Err(); err != nil {
				return err
			}
			name := artifact.LayerPath(l)
			dst := filepath.Join(tmp, filepath.FromSlash(name))
			if strings.HasSuffix(l.MediaType, ".tar") {
				if err := untar(p.blobPath(l.Digest), dst); err != nil {
					return Unprocessable("layer %s (%s): %w", l.Digest, name, err)
				}
				continue
			}
			if err := fsutil.Place(ctx, p.blobPath(l.Digest), dst); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &Package{Digest: d, Dir: dir, Manifest: &man}, nil
}

// unpackAs has fill lay the files out in a new directory beside dir and then
// renames that to dir, so that dir is whole or absent; where a concurrent
// unpack of the same digest got there first, its dir is kept.
func unpackAs(dir string, d digest.Digest, fill func(tmp string) error) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(dir); serr != nil {
			return fmt.Errorf("unpack %s: %w", d, err)
		}
	}
	return nil
}

// untar unpacks a tar layer from the cache with the package format's own extractor.
func untar(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return artifact.Untar(f, dst)
}
