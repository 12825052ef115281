package repostore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/opencontainers/go-digest"
)

// Cross-replica GC safety.
//
// The in-process barrier of gc.go cannot see a manifest push on another
// replica, so pushes and sweeps also meet in storage, in the manner of
// Dekker's mutual exclusion (each side writes its flag, then reads the
// other's; with S3's read-after-write consistency at least one sees the other):
//
//   - a manifest push about to rely on blob d writes a "recently referenced" marker _gc/refs/<alg>/<hex>, then looks for
//     a doomed marker _gc/doomed/<alg>/<hex>; while one is there it waits for it
//     to go and starts over, then checks d exists;
//   - the sweep, before deleting d, writes the doomed marker, then reads the
//     referenced marker: a recent one spares d.
//
// So either the sweep sees the reference and spares the blob, or the operation
// sees the sweep, waits, and then finds the blob gone and fails cleanly
// (MANIFEST_BLOB_UNKNOWN). An operation must finish within ReferenceHold of
// its marker (it fails with ErrRetry past that), so a marker older than twice
// that, counted from the sweep's start, protects nothing any more.

// ErrRetry: the operation took too long to be safe against a concurrent GC; the client retries.
var ErrRetry = errors.New("operation took too long to be safe against a concurrent garbage collection; retry")

func refMarker(d digest.Digest) string {
	return path.Join("_gc/refs", d.Algorithm().String(), d.Encoded())
}

func doomedMarker(d digest.Digest) string {
	return path.Join("_gc/doomed", d.Algorithm().String(), d.Encoded())
}

// doomedWait is how long an operation waits for a sweep to finish with a blob.
const doomedWait = 30 * time.Second

// protect marks ds as referenced now, across replicas; it returns when no sweep
// is deleting any of them. The time it returns starts the operation's hold.
func (s *Store) protect(ctx context.Context, ds ...digest.Digest) (time.Time, error) {
	start := time.Now()
	seen := map[digest.Digest]bool{}
	for _, d := range ds {
		if seen[d] || d.Validate() != nil {
			continue
		}
		seen[d] = true
		// a marker written moments ago protects as well as a new one would (any
		// sweep reading it finds it recent): save the write, keep the doomed check
		fresh := false
		if fi, err := s.d.Stat(ctx, refMarker(d)); err == nil && time.Since(fi.ModTime) < s.opts.ReferenceHold/2 {
			fresh = true
		}
		for {
			if !fresh {
				now := []byte(time.Now().UTC().Format(time.RFC3339Nano))
				if err := s.d.PutContent(ctx, refMarker(d), now); err != nil {
					return time.Time{}, fmt.Errorf("mark %s referenced: %w", d, err)
				}
			}
			fresh = false
			ok, err := s.doomed(ctx, d)
			if err != nil {
				return time.Time{}, err
			}
			if !ok {
				break
			}
			// a sweep is deciding about d: wait for it, then mark again
			for ok {
				if time.Since(start) > doomedWait {
					return time.Time{}, fmt.Errorf("%w: blob %s is being collected", ErrRetry, d)
				}
				select {
				case <-ctx.Done():
					return time.Time{}, ctx.Err()
				case <-time.After(50 * time.Millisecond):
				}
				if ok, err = s.doomed(ctx, d); err != nil {
					return time.Time{}, err
				}
			}
		}
	}
	return time.Now(), nil
}

// staleDoomed: a sweep holds a doomed marker for the moment of one deletion;
// one this old was left by a collector that died, and means nothing.
const staleDoomed = time.Minute

func (s *Store) doomed(ctx context.Context, d digest.Digest) (bool, error) {
	fi, err := s.d.Stat(ctx, doomedMarker(d))
	if isNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", doomedMarker(d), err)
	}
	return time.Since(fi.ModTime) < staleDoomed, nil
}

// holdOK reports whether an operation protected at since may still commit.
func (s *Store) holdOK(since time.Time) error {
	if time.Since(since) > s.opts.ReferenceHold {
		return ErrRetry
	}
	return nil
}

// doom is the sweep's side: it returns true when d may be deleted now (and
// then the caller deletes it and calls undoom), false when d was referenced
// recently (after refCutoff) or the doomed marker could not be written.
func (s *Store) doom(ctx context.Context, d digest.Digest, refCutoff time.Time) (bool, error) {
	if err := s.d.PutContent(ctx, doomedMarker(d), []byte("gc")); err != nil {
		return false, fmt.Errorf("gc: mark %s doomed: %w", d, err)
	}
	fi, err := s.d.Stat(ctx, refMarker(d))
	if err == nil && fi.ModTime.After(refCutoff) {
		s.undoom(ctx, d)
		return false, nil
	}
	if err != nil && !isNotFound(err) {
		s.undoom(ctx, d)
		return false, fmt.Errorf("gc: stat %s: %w", refMarker(d), err)
	}
	return true, nil
}

func (s *Store) undoom(ctx context.Context, d digest.Digest) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.d.Delete(ctx, doomedMarker(d)); err != nil && !isNotFound(err) {
		// a stale doomed marker makes pushes of d wait doomedWait and then retry
		s.log.Warn("gc: remove doomed marker", "digest", d, "err", err)
	}
}
