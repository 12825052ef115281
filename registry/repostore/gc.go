package repostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/opencontainers/go-digest"
)

// Online GC safety.
//
// Every operation that relies on a blob existing (a commit, a mount, a manifest
// push checking its references) holds gcBarrier for reading and, while a GC runs,
// records the digests it relies on BEFORE checking them. A GC:
//  1. takes gcBarrier for writing just long enough to switch recording on, so every
//     operation that started before it (and recorded nothing) has finished and its
//     links are visible to the mark phase;
//  2. marks everything reachable from every repository's manifests;
//  3. deletes each unmarked blob older than the grace period under recMu, after
//     checking it was not recorded. An operation that records after that deletion
//     finds the blob gone and fails cleanly (BLOB_UNKNOWN / MANIFEST_BLOB_UNKNOWN),
//     so no stored manifest ever points at a collected blob.

const (
	gcLease    = "_gc/lease"
	gcLeaseTTL = time.Minute
)

// ErrGCRunning: another collection (in this or another process) holds the GC lease.
var ErrGCRunning = errors.New("another garbage collection is running")

// use records digests an operation relies on; call the returned func when done.
func (s *Store) use(ds ...digest.Digest) func() {
	s.gcBarrier.RLock()
	if s.gcActive.Load() {
		s.recMu.Lock()
		if s.recorded != nil { // the GC may have just finished
			for _, d := range ds {
				s.recorded[d] = struct{}{}
			}
		}
		s.recMu.Unlock()
	}
	return s.gcBarrier.RUnlock
}

// GCOptions tune a collection.
type GCOptions struct {
	DryRun bool
	// GracePeriod spares blobs younger than this (pushed but not yet referenced).
	GracePeriod time.Duration
	// UploadTTL expires uploads idle for longer; 0 uses the store's option.
	UploadTTL time.Duration
}

// GCReport says what a collection found and freed.
type GCReport struct {
	DryRun         bool            `json:"dryRun"`
	Repositories   int             `json:"repositories"`
	Manifests      int             `json:"manifests"`
	Marked         int             `json:"marked"`
	BlobsScanned   int             `json:"blobsScanned"`
	BlobsDeleted   int             `json:"blobsDeleted"`
	BytesFreed     int64           `json:"bytesFreed"`
	LinksRemoved   int             `json:"linksRemoved"`
	UploadsExpired int             `json:"uploadsExpired"`
	Deleted        []digest.Digest `json:"deleted,omitempty"`
	Duration       time.Duration   `json:"-"`
	Seconds        float64         `json:"seconds"` // Duration, readable in the JSON report
}

// GC marks every blob reachable from a manifest of any repository (configs, layers,
// index children, subjects, the manifests themselves) and deletes the rest that are
// older than the grace period. Safe while pushes run in this process; another process
// writing the same storage is protected only by the grace period.
func (s *Store) GC(ctx context.Context, opts GCOptions) (GCReport, error) {
	s.gcRun.Lock()
	defer s.gcRun.Unlock()
	start := time.Now()
	rep := GCReport{DryRun: opts.DryRun}
	// one collector at a time across every process on this storage
	l, err := s.acquireLease(ctx, gcLease, gcLeaseTTL)
	if err != nil {
		if errors.Is(err, ErrLeaseHeld) {
			return rep, ErrGCRunning
		}
		return rep, fmt.Errorf("gc: %w", err)
	}
	defer l.release(ctx)
	// with the lease held no sweep runs anywhere: doomed markers left now are a dead collector's
	if err := s.d.Delete(ctx, "_gc/doomed"); err != nil && !isNotFound(err) {
		return rep, fmt.Errorf("gc: clear doomed markers: %w", err)
	}
	// a reference marked before this, by a push that may still be committing
	refCutoff := start.Add(-2 * s.opts.ReferenceHold)

	s.gcBarrier.Lock()
	s.recMu.Lock()
	s.recorded = map[digest.Digest]struct{}{}
	s.recMu.Unlock()
	s.gcActive.Store(true)
	s.gcBarrier.Unlock()
	defer func() {
		s.gcActive.Store(false)
		s.recMu.Lock()
		s.recorded = nil
		s.recMu.Unlock()
	}()

	marked := map[digest.Digest]struct{}{}
	repos, err := s.ListRepositories(ctx, -1, "")
	if err != nil {
		return rep, err
	}
	rep.Repositories = len(repos)
	for _, repo := range repos {
		if err := s.markRepo(ctx, repo, marked, &rep); err != nil {
			return rep, err
		}
	}
	rep.Marked = len(marked)

	cutoff := time.Now().Add(-opts.GracePeriod)
	deleted := map[digest.Digest]struct{}{}
	var candidates []driver.FileInfo
	err = s.d.Walk(ctx, "blobs", func(fi driver.FileInfo) error {
		if !strings.HasSuffix(fi.Path, "/data") {
			return nil
		}
		rep.BlobsScanned++
		d, ok := digestFromBlobPath(fi.Path)
		if !ok {
			return nil
		}
		if _, ok := marked[d]; ok || fi.ModTime.After(cutoff) {
			return nil
		}
		candidates = append(candidates, fi)
		return nil
	})
	if err != nil && !isNotFound(err) {
		return rep, fmt.Errorf("gc: walk blobs: %w", err)
	}
	for _, fi := range candidates {
		d, _ := digestFromBlobPath(fi.Path)
		if opts.DryRun {
			s.recMu.Lock()
			_, used := s.recorded[d]
			s.recMu.Unlock()
			if fi, err := s.d.Stat(ctx, refMarker(d)); err == nil && fi.ModTime.After(refCutoff) {
				used = true // a push referenced it just now
			}
			if !used {
				rep.BlobsDeleted++
				rep.BytesFreed += fi.Size
				rep.Deleted = append(rep.Deleted, d)
			}
			continue
		}
		if !l.held() {
			return rep, fmt.Errorf("gc: lease %s lost (storage too slow?); stopped", gcLease)
		}
		ok, err := s.doom(ctx, d, refCutoff)
		if err != nil {
			return rep, err
		}
		if !ok {
			continue // referenced meanwhile, on some replica
		}
		s.recMu.Lock()
		_, used := s.recorded[d]
		if !used {
			err = s.d.Delete(ctx, blobDir(d))
			if err == nil || isNotFound(err) {
				// the marker goes with the blob, while the doomed marker still holds pushes off
				if derr := s.d.Delete(ctx, refMarker(d)); derr != nil && !isNotFound(derr) {
					s.log.Warn("gc: remove reference marker", "digest", d, "err", derr)
				}
			}
		}
		s.recMu.Unlock()
		s.undoom(ctx, d)
		if used {
			continue
		}
		if err != nil && !isNotFound(err) {
			return rep, fmt.Errorf("gc: delete blob %s: %w", d, err)
		}
		deleted[d] = struct{}{}
		rep.BlobsDeleted++
		rep.BytesFreed += fi.Size
		rep.Deleted = append(rep.Deleted, d)
	}
	if !opts.DryRun && len(deleted) > 0 {
		for _, repo := range repos {
			n, err := s.unlinkDeleted(ctx, repo, deleted)
			rep.LinksRemoved += n
			if err != nil {
				return rep, err
			}
		}
	}
	ttl := opts.UploadTTL
	if ttl <= 0 {
		ttl = s.opts.UploadTTL
	}
	if !opts.DryRun {
		n, err := s.ExpireUploads(ctx, ttl)
		rep.UploadsExpired = n
		if err != nil {
			return rep, err
		}
	}
	rep.Duration = time.Since(start)
	rep.Seconds = rep.Duration.Seconds()
	s.log.Info("gc done", "dryRun", rep.DryRun, "manifests", rep.Manifests, "marked", rep.Marked,
		"deleted", rep.BlobsDeleted, "bytesFreed", rep.BytesFreed, "uploadsExpired", rep.UploadsExpired, "took", rep.Duration)
	return rep, nil
}

func (s *Store) markRepo(ctx context.Context, repo string, marked map[digest.Digest]struct{}, rep *GCReport) error {
	dir := repoPath(repo) + "/_manifests/revisions"
	return ignoreNotFound(s.d.Walk(ctx, dir, func(fi driver.FileInfo) error {
		b, err := s.d.GetContent(ctx, fi.Path)
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return fmt.Errorf("gc: read %s: %w", fi.Path, err)
		}
		var desc struct {
			Digest digest.Digest `json:"digest"`
		}
		if json.Unmarshal(b, &desc) != nil || desc.Digest.Validate() != nil {
			return nil
		}
		rep.Manifests++
		marked[desc.Digest] = struct{}{}
		body, err := s.d.GetContent(ctx, blobPath(desc.Digest))
		if err != nil {
			if isNotFound(err) {
				return nil
			}
			return fmt.Errorf("gc: read manifest %s: %w", desc.Digest, err)
		}
		doc, _, err := ParseManifest("", body)
		if err != nil {
			// unknown formats without mediaType: still honour their descriptors
			var loose manifestDoc
			if json.Unmarshal(body, &loose) != nil {
				return nil
			}
			doc = &loose
		}
		for _, d := range doc.references() {
			marked[d] = struct{}{}
		}
		return nil
	}))
}

func (s *Store) unlinkDeleted(ctx context.Context, repo string, deleted map[digest.Digest]struct{}) (int, error) {
	n := 0
	var links []string
	err := s.d.Walk(ctx, repoPath(repo)+"/_layers", func(fi driver.FileInfo) error {
		rest := strings.TrimPrefix(fi.Path, repoPath(repo)+"/_layers/")
		parts := strings.Split(rest, "/")
		if len(parts) == 3 {
			if _, ok := deleted[digest.NewDigestFromEncoded(digest.Algorithm(parts[0]), parts[1])]; ok {
				links = append(links, strings.TrimSuffix(fi.Path, "/link"))
			}
		}
		return nil
	})
	if err = ignoreNotFound(err); err != nil {
		return 0, fmt.Errorf("gc: walk links of %s: %w", repo, err)
	}
	for _, l := range links {
		parts := strings.Split(strings.TrimPrefix(l, repoPath(repo)+"/_layers/"), "/")
		d := digest.NewDigestFromEncoded(digest.Algorithm(parts[0]), parts[1])
		// a push of the same blob since the sweep re-created it: keep its link
		s.recMu.Lock()
		_, used := s.recorded[d]
		var err error
		if !used {
			var ok bool
			if ok, err = s.exists(ctx, blobPath(d)); err == nil && !ok {
				err = s.d.Delete(ctx, l)
				if err == nil {
					n++
				}
			}
		}
		s.recMu.Unlock()
		if err != nil && !isNotFound(err) {
			// a dangling link is harmless (reads check the blob too): note it, go on
			s.log.Warn("gc: unlink", "link", l, "err", err)
		}
	}
	return n, nil
}

func ignoreNotFound(err error) error {
	if isNotFound(err) {
		return nil
	}
	return err
}

// digestFromBlobPath parses blobs/<alg>/<xx>/<hex>/data.
func digestFromBlobPath(p string) (digest.Digest, bool) {
	parts := strings.Split(p, "/")
	if len(parts) != 5 || parts[0] != "blobs" || parts[4] != "data" {
		return "", false
	}
	d := digest.NewDigestFromEncoded(digest.Algorithm(parts[1]), parts[3])
	if d.Validate() != nil {
		return "", false
	}
	return d, true
}

// RunJanitor expires abandoned uploads every interval until ctx ends.
// It first, and then every interval, removes what writes of dead processes
// left in storage (temporary files, unfinished multipart uploads).
func (s *Store) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	s.cleanLeftovers(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.cleanLeftovers(ctx)
			if n, err := s.ExpireUploads(ctx, s.opts.UploadTTL); err != nil {
				s.log.Warn("expire uploads", "err", err)
			} else if n > 0 {
				s.log.Info("expired abandoned uploads", "count", n)
			}
		}
	}
}

// leftoverAge: an unfinished S3 multipart upload older than this has no live
// writer (the filesystem driver tells live writers by their file lock instead).
const leftoverAge = time.Hour

func (s *Store) cleanLeftovers(ctx context.Context) {
	c, ok := s.d.(driver.Cleaner)
	if !ok {
		return
	}
	if n, err := c.Clean(ctx, leftoverAge); err != nil && ctx.Err() == nil {
		s.log.Warn("clean leftovers of interrupted writes", "err", err)
	} else if n > 0 {
		s.log.Info("removed leftovers of interrupted writes", "count", n)
	}
}
