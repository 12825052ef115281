package repostore

import (
	"context"
	"fmt"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/opencontainers/go-digest"
)

// CanRedirect reports whether the storage can hand clients a direct URL for a
// blob (S3 presigned URLs); the filesystem cannot.
func (s *Store) CanRedirect() bool {
	_, ok := s.d.(driver.Redirector)
	return ok
}

// BlobURL is a URL, valid for expiry, from which a client fetches blob d
// straight from the storage. The caller checks first (StatBlob) that the
// repository holds the blob: presigning is local and proves nothing.
func (s *Store) BlobURL(ctx context.Context, d digest.Digest, expiry time.Duration) (string, error) {
	r, ok := s.d.(driver.Redirector)
	if !ok {
		return "", fmt.Errorf("blob %s: %s storage cannot redirect", d, s.d.Name())
	}
	u, err := r.URLFor(ctx, blobPath(d), expiry)
	if err != nil {
		return "", fmt.Errorf("blob %s: %w", d, err)
	}
	return u, nil
}
