package repostore

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/registry/names"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The methods below are the web UI's read view of the store (registry/ui.Source).

// Catalog lists repositories (n <= 0: all).
func (s *Store) Catalog(ctx context.Context, n int, last string) ([]string, error) {
	return s.ListRepositories(ctx, all(n), last)
}

// Tags lists a repository's tags (n <= 0: all).
func (s *Store) Tags(ctx context.Context, repo string, n int, last string) ([]string, error) {
	return s.ListTags(ctx, repo, all(n), last)
}

func all(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// Resolve finds a manifest by tag or digest.
func (s *Store) Resolve(ctx context.Context, repo, reference string) (ocispec.Descriptor, error) {
	ref, err := names.ParseReference(reference)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return s.ResolveRef(ctx, repo, ref)
}

// Manifest returns a manifest's bytes.
func (s *Store) Manifest(ctx context.Context, repo string, dgst digest.Digest) ([]byte, error) {
	_, b, err := s.GetManifest(ctx, repo, names.Reference{Digest: dgst})
	return b, err
}

// Blob streams a blob of the shared store.
func (s *Store) Blob(ctx context.Context, dgst digest.Digest) (io.ReadCloser, error) {
	if _, err := names.ParseDigest(dgst.String()); err != nil {
		return nil, err
	}
	return s.ReadBlob(ctx, dgst)
}

// Referrers lists the manifests whose subject is dgst.
func (s *Store) Referrers(ctx context.Context, repo string, dgst digest.Digest) ([]ocispec.Descriptor, error) {
	return s.ListReferrers(ctx, repo, dgst, "")
}

// TagTimes says when each tag of repo was last pointed at a manifest (the
// modification time of its link), from one listing. The web UI shows it as a
// tag's "updated" after a restart, when it saw no push.
func (s *Store) TagTimes(ctx context.Context, repo string) (map[string]time.Time, error) {
	if err := checkRepo(repo); err != nil {
		return nil, err
	}
	dir := tagsDir(repo) + "/"
	out := map[string]time.Time{}
	err := s.d.Walk(ctx, tagsDir(repo), func(fi driver.FileInfo) error {
		tag, ok := strings.CutSuffix(strings.TrimPrefix(fi.Path, dir), "/current/link")
		if ok && !strings.Contains(tag, "/") {
			out[tag] = fi.ModTime
		}
		return nil
	})
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	return out, nil
}
