package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
)

// LayoutSource serves a Source from one OCI image layout (oras-go content/oci)
// whose tags are "REPO:TAG" (e.g. "hf/bert:v1"): a whole registry's worth of
// repositories sharing one blob store. It lets the UI browse a layout on disk, and
// the tests and benchmarks run the UI on real OCI content without a registry.
//
// Push content into Store directly, but tag and untag through LayoutSource, which
// keeps the repository list the listings are cut from.
type LayoutSource struct {
	Store *oci.Store

	mu    sync.Mutex
	repos map[string][]string // repository → sorted tags; nil until first listed
	names []string            // sorted repositories
}

// NewLayoutSource opens (creating if needed) the layout at root.
func NewLayoutSource(ctx context.Context, root string) (*LayoutSource, error) {
	s, err := oci.NewWithContext(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("open OCI layout %s: %w", root, err)
	}
	return &LayoutSource{Store: s}, nil
}

// LayoutTag is the layout tag of repo:tag.
func LayoutTag(repo, tag string) string { return repo + ":" + tag }

// Tag points repo:tag at desc.
func (l *LayoutSource) Tag(ctx context.Context, desc ocispec.Descriptor, repo, tag string) error {
	if err := l.Store.Tag(ctx, desc, LayoutTag(repo, tag)); err != nil {
		return fmt.Errorf("tag %s:%s: %w", repo, tag, err)
	}
	l.invalidate()
	return nil
}

// Untag removes repo:tag.
func (l *LayoutSource) Untag(ctx context.Context, repo, tag string) error {
	if err := l.Store.Untag(ctx, LayoutTag(repo, tag)); err != nil {
		return fmt.Errorf("untag %s:%s: %w", repo, tag, err)
	}
	l.invalidate()
	return nil
}

func (l *LayoutSource) invalidate() {
	l.mu.Lock()
	l.repos, l.names = nil, nil
	l.mu.Unlock()
}

// listing returns the repositories and their tags, read from the layout once per change.
func (l *LayoutSource) listing(ctx context.Context) (map[string][]string, []string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.repos != nil {
		return l.repos, l.names, nil
	}
	repos := map[string][]string{}
	err := l.Store.Tags(ctx, "", func(tags []string) error {
		for _, t := range tags {
			if _, err := digest.Parse(t); err == nil {
				continue // oras-go also indexes every manifest by its digest
			}
			if i := strings.LastIndexByte(t, ':'); i > 0 {
				repos[t[:i]] = append(repos[t[:i]], t[i+1:])
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list layout tags: %w", err)
	}
	names := make([]string, 0, len(repos))
	for r, tags := range repos {
		sort.Strings(tags)
		names = append(names, r)
	}
	sort.Strings(names)
	l.repos, l.names = repos, names
	return repos, names, nil
}

func page(items []string, n int, last string) []string {
	i := sort.SearchStrings(items, last)
	if last != "" && i < len(items) && items[i] == last {
		i++
	}
	items = items[i:]
	if n > 0 && len(items) > n {
		items = items[:n]
	}
	return items
}

// Catalog implements Source.
func (l *LayoutSource) Catalog(ctx context.Context, n int, last string) ([]string, error) {
	_, names, err := l.listing(ctx)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), page(names, n, last)...), nil
}

// Tags implements Source.
func (l *LayoutSource) Tags(ctx context.Context, repo string, n int, last string) ([]string, error) {
	repos, _, err := l.listing(ctx)
	if err != nil {
		return nil, err
	}
	tags, ok := repos[repo]
	if !ok {
		return nil, fmt.Errorf("repository %s: %w", repo, ErrNotFound)
	}
	return append([]string(nil), page(tags, n, last)...), nil
}

// Resolve implements Source.
func (l *LayoutSource) Resolve(ctx context.Context, repo, reference string) (ocispec.Descriptor, error) {
	if d, err := digest.Parse(reference); err == nil {
		return l.Store.Resolve(ctx, d.String())
	}
	return l.Store.Resolve(ctx, LayoutTag(repo, reference))
}

// Manifest implements Source.
func (l *LayoutSource) Manifest(ctx context.Context, repo string, dgst digest.Digest) ([]byte, error) {
	desc, err := l.Store.Resolve(ctx, dgst.String())
	if err != nil {
		return nil, err
	}
	return content.FetchAll(ctx, l.Store, desc)
}

// Blob implements Source.
func (l *LayoutSource) Blob(ctx context.Context, dgst digest.Digest) (io.ReadCloser, error) {
	if err := dgst.Validate(); err != nil {
		return nil, err
	}
	desc, err := l.Store.Resolve(ctx, dgst.String())
	if err != nil {
		return nil, err
	}
	return l.Store.Fetch(ctx, desc)
}

// Referrers implements Source: the manifests in the layout whose subject is dgst.
func (l *LayoutSource) Referrers(ctx context.Context, repo string, dgst digest.Digest) ([]ocispec.Descriptor, error) {
	desc, err := l.Store.Resolve(ctx, dgst.String())
	if err != nil {
		return nil, err
	}
	preds, err := l.Store.Predecessors(ctx, desc)
	if err != nil {
		return nil, err
	}
	var out []ocispec.Descriptor
	for _, p := range preds {
		raw, err := content.FetchAll(ctx, l.Store, p)
		if err != nil {
			continue
		}
		var m ocispec.Manifest
		if json.Unmarshal(raw, &m) != nil || m.Subject == nil || m.Subject.Digest != dgst {
			continue
		}
		r := ocispec.Descriptor{MediaType: p.MediaType, Digest: p.Digest, Size: p.Size, ArtifactType: m.ArtifactType, Annotations: m.Annotations}
		if r.ArtifactType == "" {
			r.ArtifactType = m.Config.MediaType
		}
		out = append(out, r)
	}
	return out, nil
}

var _ Source = (*LayoutSource)(nil)

// ErrNotFound is what a LayoutSource answers for an unknown repository.
var ErrNotFound = errNotFound
