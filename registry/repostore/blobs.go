package repostore

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Digest digest.Digest
	Size   int64
}

// statBlob describes a blob in the shared blob store, whatever repository holds it.
func (s *Store) statBlob(ctx context.Context, d digest.Digest) (BlobInfo, error) {
	fi, err := s.d.Stat(ctx, blobPath(d))
	if err != nil {
		if isNotFound(err) {
			return BlobInfo{}, ErrBlobUnknown
		}
		return BlobInfo{}, fmt.Errorf("stat blob %s: %w", d, err)
	}
	return BlobInfo{Digest: d, Size: fi.Size}, nil
}

// linked checks that the repository may serve d (a pushed or mounted blob,
// or one of its manifests): ErrBlobUnknown when it may not.
func (s *Store) linked(ctx context.Context, repo string, d digest.Digest) error {
	ok, err := s.exists(ctx, layerLink(repo, d))
	if err == nil && !ok {
		ok, err = s.exists(ctx, revisionLink(repo, d))
	}
	if err == nil && !ok {
		err = ErrBlobUnknown
	}
	return err
}

// StatBlob describes blob d as repository repo sees it.
func (s *Store) StatBlob(ctx context.Context, repo string, d digest.Digest) (BlobInfo, error) {
	if err := checkRepo(repo); err != nil {
		return BlobInfo{}, err
	}
	if err := s.linked(ctx, repo, d); err != nil {
		return BlobInfo{}, err
	}
	return s.statBlob(ctx, d)
}

// OpenBlob streams blob d from offset, as repository repo sees it.
func (s *Store) OpenBlob(ctx context.Context, repo string, d digest.Digest, offset int64) (io.ReadCloser, error) {
	rc, err := s.d.Reader(ctx, blobPath(d), offset)
	if err != nil {
		if isNotFound(err) {
			return nil, ErrBlobUnknown
		}
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	return rc, nil
}

// DeleteBlob unlinks blob d from a repository; its bytes go when GC finds no other reference.
func (s *Store) DeleteBlob(ctx context.Context, repo string, d digest.Digest) error {
	if err := checkRepo(repo); err != nil {
		return err
	}
	p := layerLink(repo, d)
	ok, err := s.exists(ctx, p)
	if err != nil {
		return err
	}
	if !ok {
		return ErrBlobUnknown
	}
	if err := s.d.Delete(ctx, p); err != nil && !isNotFound(err) {
		return fmt.Errorf("unlink blob %s from %s: %w", d, repo, err)
	}
	return nil
}

// Mount links an existing blob into repo. With from == "" any stored blob may be
// mounted (anonymous mount); otherwise the blob must be linked in from.
func (s *Store) Mount(ctx context.Context, repo, from string, d digest.Digest) (BlobInfo, error) {
	if err := checkRepo(repo); err != nil {
		return BlobInfo{}, err
	}
	done := s.use(d)
	defer done()
	if from != "" {
		if err := checkRepo(from); err != nil {
			return BlobInfo{}, ErrBlobUnknown
		}
		if err := s.linked(ctx, from, d); err != nil {
			return BlobInfo{}, err
		}
	}
	bi, err := s.statBlob(ctx, d)
	if err != nil {
		return BlobInfo{}, err
	}
	if err := s.link(ctx, repo, d); err != nil {
		return BlobInfo{}, err
	}
	return bi, nil
}

func (s *Store) link(ctx context.Context, repo string, d digest.Digest) error {
	p := layerLink(repo, d)
	if ok, err := s.exists(ctx, p); err == nil && ok {
		return nil
	}
	if err := s.d.PutContent(ctx, p, []byte(d.String())); err != nil {
		return fmt.Errorf("link blob %s into %s: %w", d, repo, err)
	}
	return nil
}

// ReadBlob opens a blob of the shared store by digest (for the UI and GC).
func (s *Store) ReadBlob(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	return s.OpenBlob(ctx, "", d, 0)
}
