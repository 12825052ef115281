package repostore

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"time"

	"github.com/google/uuid"
	"github.com/opencontainers/go-digest"
)

// UploadInfo is the client-visible state of an upload.
type UploadInfo struct {
	ID     string
	Repo   string
	Offset int64 // bytes received so far
}

// uploadState is persisted next to the staged data after every request, so an
// upload resumes across requests, server restarts and (on S3) server replicas.
type uploadState struct {
	Repo      string    `json:"repo"`
	Offset    int64     `json:"offset"`
	Algorithm string    `json:"algorithm"`
	HashState []byte    `json:"hashState,omitempty"`
	Started   time.Time `json:"started"`
	Updated   time.Time `json:"updated"`

	lease *lease // the request's hold on the upload, checked before each state write
}

func uploadDir(id string) string       { return "_uploads/" + id }
func uploadData(id string) string      { return uploadDir(id) + "/data" }
func uploadStatePath(id string) string { return uploadDir(id) + "/state" }
func uploadCheck(id string) string     { return uploadDir(id) + "/verify" }
func uploadLease(id string) string     { return uploadDir(id) + "/lease" }

// uploadLeaseTTL is how long a dead replica's upload lease blocks the upload.
const uploadLeaseTTL = time.Minute

// ErrUploadBusy: another request (on this or another replica) is writing the upload.
var ErrUploadBusy = fmt.Errorf("%w: another request is writing this upload; retry from the offset GET reports", ErrRangeInvalid)

func newHash(alg digest.Algorithm) (hash.Hash, error) {
	switch alg {
	case digest.SHA256:
		return sha256.New(), nil
	case digest.SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("%w: unsupported digest algorithm %q", ErrUploadInvalid, alg)
}

func (s *Store) lockUpload(id string) func() {
	h := fnv.New32a()
	h.Write([]byte(id))
	m := &s.uploadLocks[h.Sum32()%uint32(len(s.uploadLocks))]
	m.Lock()
	return m.Unlock
}

// holdUpload gives the request exclusive use of an upload: the in-process lock
// for requests of this process, the storage lease against other replicas. A
// second writer gets ErrUploadBusy at once rather than interleaving its bytes.
// The returned lease is checked before anything is committed.
func (s *Store) holdUpload(ctx context.Context, repo, id string) (*uploadState, *lease, func(), error) {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return nil, nil, nil, ErrUploadUnknown
	}
	unlock := s.lockUpload(id)
	l, err := s.acquireLease(ctx, uploadLease(id), uploadLeaseTTL)
	if err != nil {
		unlock()
		if errors.Is(err, ErrLeaseHeld) {
			return nil, nil, nil, ErrUploadBusy
		}
		return nil, nil, nil, err
	}
	release := func() { l.release(ctx); unlock() }
	st, err := s.loadState(ctx, repo, id)
	if err != nil {
		if errors.Is(err, ErrUploadUnknown) {
			// no such upload (or finished): drop the lease we just created
			s.d.Delete(context.WithoutCancel(ctx), uploadLease(id))
		}
		release()
		return nil, nil, nil, err
	}
	return st, l, release, nil
}

// errLeaseLost: the request stalled so long that its lease expired and another may have taken the upload.
var errLeaseLost = fmt.Errorf("%w: the upload lease expired while this request ran", ErrUploadInvalid)

// StartUpload opens an upload session. alg is the digest algorithm the client
// announced ("" means sha256); a different one at commit still works, at the cost
// of one extra read of the staged data.
func (s *Store) StartUpload(ctx context.Context, repo string, alg digest.Algorithm) (UploadInfo, error) {
	if err := checkRepo(repo); err != nil {
		return UploadInfo{}, err
	}
	if alg == "" {
		alg = digest.SHA256
	}
	if _, err := newHash(alg); err != nil {
		return UploadInfo{}, err
	}
	id := uuid.NewString()
	now := time.Now().UTC()
	st := uploadState{Repo: repo, Algorithm: alg.String(), Started: now, Updated: now}
	if err := s.saveState(ctx, id, &st); err != nil {
		return UploadInfo{}, err
	}
	return UploadInfo{ID: id, Repo: repo}, nil
}

func (s *Store) saveState(ctx context.Context, id string, st *uploadState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.d.PutContent(ctx, uploadStatePath(id), b); err != nil {
		return fmt.Errorf("save upload state %s: %w", id, err)
	}
	return nil
}

func (s *Store) loadState(ctx context.Context, repo, id string) (*uploadState, error) {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return nil, ErrUploadUnknown
	}
	b, err := s.d.GetContent(ctx, uploadStatePath(id))
	if err != nil {
		if isNotFound(err) {
			return nil, ErrUploadUnknown
		}
		return nil, fmt.Errorf("read upload state %s: %w", id, err)
	}
	var st uploadState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: corrupt state: %v", ErrUploadInvalid, err)
	}
	if st.Repo != repo {
		return nil, ErrUploadUnknown
	}
	return &st, nil
}

// UploadStatus reports how many bytes an upload holds.
func (s *Store) UploadStatus(ctx context.Context, repo, id string) (UploadInfo, error) {
	st, err := s.loadState(ctx, repo, id)
	if err != nil {
		return UploadInfo{}, err
	}
	return UploadInfo{ID: id, Repo: repo, Offset: st.Offset}, nil
}

// restoreHash rebuilds the running digest of the bytes received so far.
func restoreHash(st *uploadState) (hash.Hash, error) {
	h, err := newHash(digest.Algorithm(st.Algorithm))
	if err != nil {
		return nil, err
	}
	if len(st.HashState) > 0 {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(st.HashState); err != nil {
			return nil, fmt.Errorf("%w: hash state: %v", ErrUploadInvalid, err)
		}
	}
	return h, nil
}

// appendData streams r onto the staged data. start is the client's Content-Range
// start, or -1 when it sent none (a streamed PATCH appends). length is the
// declared chunk length or -1. With commit the staged data is made durable for
// Move; otherwise it is kept for the next request.
func (s *Store) appendData(ctx context.Context, id string, st *uploadState, start, length int64, r io.Reader, commit bool) (hash.Hash, error) {
	if start >= 0 && start != st.Offset {
		return nil, ErrRangeInvalid
	}
	h, err := restoreHash(st)
	if err != nil {
		return nil, err
	}
	fw, err := s.d.Writer(ctx, uploadData(id), st.Offset > 0)
	if err != nil {
		return nil, fmt.Errorf("open upload %s: %w", id, err)
	}
	if fw.Size() != st.Offset {
		// staged bytes and saved state disagree (a crash between the two writes): the
		// hash state no longer describes the data, so the client must start over
		fw.Cancel(ctx)
		return nil, fmt.Errorf("%w: staged %d bytes but state says %d", ErrUploadInvalid, fw.Size(), st.Offset)
	}
	var n int64
	if r != nil {
		if length >= 0 {
			r = io.LimitReader(r, length)
		}
		n, err = copyHashing(fw, h, r)
		if err != nil {
			// the client went away mid-chunk: what was written is exactly what was
			// hashed, so record it and let the client resume from there (GET status)
			if fw.Close() == nil && fw.Size() == st.Offset+n {
				st.Offset += n
				st.Updated = time.Now().UTC()
				if hs, merr := h.(encoding.BinaryMarshaler).MarshalBinary(); merr == nil {
					st.HashState = hs
					s.saveState(context.WithoutCancel(ctx), id, st)
				}
			}
			return nil, fmt.Errorf("receive upload %s: %w", id, err)
		}
	}
	// the bytes are in; record them even if the client has gone meanwhile
	ctx = context.WithoutCancel(ctx)
	if commit {
		err = fw.Commit(ctx)
	} else {
		err = fw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("store upload %s: %w", id, err)
	}
	st.Offset += n
	st.Updated = time.Now().UTC()
	hs, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return nil, err
	}
	st.HashState = hs
	if st.lease != nil && !st.lease.held() {
		return nil, errLeaseLost
	}
	// a committed upload is moved or discarded next: its state need not be written
	if !commit {
		if err := s.saveState(ctx, id, st); err != nil {
			return nil, err
		}
	}
	if length >= 0 && n != length {
		return h, fmt.Errorf("%w: got %d bytes, expected %d", ErrSizeInvalid, n, length)
	}
	return h, nil
}

// WriteUpload appends a chunk (PATCH). start/length as for appendData.
func (s *Store) WriteUpload(ctx context.Context, repo, id string, start, length int64, r io.Reader) (UploadInfo, error) {
	st, l, release, err := s.holdUpload(ctx, repo, id)
	if err != nil {
		return UploadInfo{}, err
	}
	defer release()
	st.lease = l
	_, err = s.appendData(ctx, id, st, start, length, r, false)
	return UploadInfo{ID: id, Repo: repo, Offset: st.Offset}, err
}

// FinishUpload appends an optional last chunk, verifies the whole upload against
// want and makes the blob visible. On mismatch nothing is stored and the upload is
// discarded (ErrDigestMismatch).
func (s *Store) FinishUpload(ctx context.Context, repo, id string, want digest.Digest, start, length int64, r io.Reader) (BlobInfo, error) {
	st, l, release, err := s.holdUpload(ctx, repo, id)
	if err != nil {
		return BlobInfo{}, err
	}
	defer release()
	st.lease = l
	return s.finishUpload(ctx, repo, id, want, start, length, r, st, l)
}

// finishUpload is FinishUpload with the upload held (l may be a no-op lease
// for an upload no client knows the id of).
func (s *Store) finishUpload(ctx context.Context, repo, id string, want digest.Digest, start, length int64, r io.Reader, st *uploadState, l *lease) (BlobInfo, error) {
	h, err := s.appendData(ctx, id, st, start, length, r, true)
	if err != nil {
		if errors.Is(err, ErrRangeInvalid) {
			return BlobInfo{}, err
		}
		s.discard(ctx, id)
		return BlobInfo{}, err
	}
	src := uploadData(id)
	// commit only the bytes the digest was computed over: the staged data must be
	// exactly what the recorded offset says (another writer's part would show here)
	if fi, err := s.d.Stat(ctx, src); err != nil || fi.Size != st.Offset {
		s.discard(ctx, id)
		if err != nil {
			return BlobInfo{}, fmt.Errorf("stat upload %s: %w", id, err)
		}
		return BlobInfo{}, fmt.Errorf("%w: staged %d bytes but %d were hashed", ErrUploadInvalid, fi.Size, st.Offset)
	}
	var got digest.Digest
	if digest.Algorithm(st.Algorithm) == want.Algorithm() {
		got = digest.NewDigestFromBytes(want.Algorithm(), h.Sum(nil))
	} else {
		// the client announced no (or another) algorithm: hash the staged bytes once more
		if err := s.d.Move(ctx, src, uploadCheck(id)); err != nil {
			s.discard(ctx, id)
			return BlobInfo{}, fmt.Errorf("stage upload %s for verification: %w", id, err)
		}
		src = uploadCheck(id)
		got, err = s.digestFile(ctx, src, want.Algorithm())
		if err != nil {
			s.discard(ctx, id)
			return BlobInfo{}, err
		}
	}
	if got != want {
		s.discard(ctx, id)
		return BlobInfo{}, fmt.Errorf("%w: computed %s", ErrDigestMismatch, got)
	}
	if !l.held() {
		return BlobInfo{}, errLeaseLost
	}
	// verified bytes land even if the client hangs up now: no half-done commit
	ctx = context.WithoutCancel(ctx)
	done := s.use(want)
	defer done()
	if ok, err := s.exists(ctx, blobPath(want)); err != nil {
		return BlobInfo{}, err
	} else if !ok {
		if err := s.d.Move(ctx, src, blobPath(want)); err != nil {
			return BlobInfo{}, fmt.Errorf("commit blob %s: %w", want, err)
		}
	}
	if err := s.link(ctx, repo, want); err != nil {
		return BlobInfo{}, err
	}
	s.discard(ctx, id)
	return BlobInfo{Digest: want, Size: st.Offset}, nil
}

func (s *Store) digestFile(ctx context.Context, p string, alg digest.Algorithm) (digest.Digest, error) {
	rc, err := s.d.Reader(ctx, p, 0)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	defer rc.Close()
	h, err := newHash(alg)
	if err != nil {
		return "", err
	}
	if _, err := io.CopyBuffer(h, rc, make([]byte, copyBufSize)); err != nil {
		return "", fmt.Errorf("hash %s: %w", p, err)
	}
	return digest.NewDigestFromBytes(alg, h.Sum(nil)), nil
}

func (s *Store) discard(ctx context.Context, id string) {
	// a detached context: the client's may already be cancelled, the cleanup must still happen
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := s.d.Delete(ctx, uploadDir(id)); err != nil && !isNotFound(err) {
		s.log.Warn("remove upload", "id", id, "err", err)
	}
}

// CancelUpload discards an upload (DELETE on the upload URL).
func (s *Store) CancelUpload(ctx context.Context, repo, id string) error {
	_, _, release, err := s.holdUpload(ctx, repo, id)
	if err != nil {
		return err
	}
	defer release()
	if err := s.d.Delete(ctx, uploadDir(id)); err != nil && !isNotFound(err) {
		return fmt.Errorf("cancel upload %s: %w", id, err)
	}
	return nil
}

// PutBlob stores a whole blob in one go (monolithic POST ?digest=).
func (s *Store) PutBlob(ctx context.Context, repo string, want digest.Digest, length int64, r io.Reader) (BlobInfo, error) {
	up, err := s.StartUpload(ctx, repo, want.Algorithm())
	if err != nil {
		return BlobInfo{}, err
	}
	// the upload's id never left this request: no other request, on any
	// replica, can write it, so it needs no lease
	unlock := s.lockUpload(up.ID)
	defer unlock()
	st, err := s.loadState(ctx, repo, up.ID)
	if err != nil {
		return BlobInfo{}, err
	}
	return s.finishUpload(ctx, repo, up.ID, want, -1, length, r, st, &lease{})
}

// ExpireUploads removes uploads idle for longer than the TTL; it returns how many.
func (s *Store) ExpireUploads(ctx context.Context, ttl time.Duration) (int, error) {
	ids, err := s.d.List(ctx, "_uploads")
	if err != nil {
		if isNotFound(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("list uploads: %w", err)
	}
	n := 0
	cutoff := time.Now().Add(-ttl)
	for _, p := range ids {
		id := p[len("_uploads/"):]
		var updated time.Time
		if b, err := s.d.GetContent(ctx, uploadStatePath(id)); err == nil {
			var st uploadState
			if json.Unmarshal(b, &st) == nil {
				updated = st.Updated
			}
		} else if fi, err := s.d.Stat(ctx, p); err == nil {
			updated = fi.ModTime
		}
		if !updated.IsZero() && updated.After(cutoff) {
			continue
		}
		unlock := s.lockUpload(id)
		err := s.d.Delete(ctx, p)
		unlock()
		if err != nil && !isNotFound(err) {
			return n, fmt.Errorf("expire upload %s: %w", id, err)
		}
		n++
	}
	return n, nil
}
