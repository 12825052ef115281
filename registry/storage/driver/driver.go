// Package driver is the registry's one storage abstraction: a small key/value file
// store over paths ("blobs/sha256/ab/abcd...", "repositories/team/bert/_manifests/...").
// Two implementations: fs (the embedded default) and s3 (minio-go). Everything above
// it (content addressing, links, uploads, gc) is storage-agnostic and lives in registry/.
//
// Paths are relative, '/'-separated, without "." or ".." elements; drivers refuse others.
package driver

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (wrapped) when a path does not exist.
var ErrNotFound = errors.New("path not found")

// ErrInvalidPath is returned for a path that is empty, absolute or has "." / ".." elements.
var ErrInvalidPath = errors.New("invalid storage path")

// FileInfo describes a stored file.
type FileInfo struct {
	Path    string
	Size    int64
	ModTime time.Time
	IsDir   bool
}

// Driver stores files by path. Implementations are safe for concurrent use.
type Driver interface {
	// Name is "filesystem" or "s3", for logs and metrics.
	Name() string

	// GetContent reads a whole small file (links, tags, manifests).
	GetContent(ctx context.Context, path string) ([]byte, error)
	// PutContent writes a whole small file atomically: readers see the old or the new content, never a part.
	PutContent(ctx context.Context, path string, content []byte) error

	// Reader streams a file from offset. The caller closes it.
	Reader(ctx context.Context, path string, offset int64) (io.ReadCloser, error)
	// Writer opens a staging file for a streamed upload. With append, it continues the
	// existing staging file at path (a resumed upload), else it truncates it. The staged
	// data is visible only to Writer(append) and Move, never through Reader at a final path.
	Writer(ctx context.Context, path string, append bool) (FileWriter, error)

	// Stat describes a file, or a directory (a prefix that has files under it).
	Stat(ctx context.Context, path string) (FileInfo, error)
	// List returns the direct children of a directory (full paths), sorted.
	List(ctx context.Context, path string) ([]string, error)
	// Move makes src visible at dst atomically (rename on disk, copy then delete on S3),
	// replacing dst if present. Readers of dst never see a partial file.
	Move(ctx context.Context, src, dst string) error
	// Delete removes a file or a whole directory tree.
	Delete(ctx context.Context, path string) error
	// Walk calls fn for every file (not directory) under path, in lexical order.
	// Returning ErrSkipDir from fn for a file skips the rest of its directory.
	Walk(ctx context.Context, path string, fn func(FileInfo) error) error
}

// ErrSkipDir, returned by a Walk callback, skips the remaining files of the directory.
var ErrSkipDir = errors.New("skip this directory")

// FileWriter is a staged, streamed write.
type FileWriter interface {
	io.Writer
	// Size is the number of bytes staged so far, including those of earlier sessions when appending.
	Size() int64
	// Close flushes and keeps the staged data for a later Writer(append) or Move.
	Close() error
	// Commit flushes, closes and makes the staged data durable, ready for Move.
	Commit(ctx context.Context) error
	// Cancel discards the staged data.
	Cancel(ctx context.Context) error
}

// Additions by the storage helper (additive; nothing above changed):
//   - ErrInvalidOffset: Reader with an offset < 0 or past the end of the file.
//   - CheckPath / CheckDir (path.go): the validation both drivers apply. List and
//     Walk also accept "" for the driver's root.
//   - Writer(append) on a path with nothing staged starts an empty file (no error).
//   - Path elements containing ".axon-" are reserved for the drivers' own temp/part names.
//   - A directory emptied by Delete or Move disappears (as on S3): never listed empty.
//   - Walk order is the byte order of full paths ("a/b-x" before "a/b/c"), as S3 lists.
//   - Cancel after Close still discards the staged data.
//   - Optional interfaces both drivers implement: Putter (PutStream) and Cleaner (Clean).

// ErrInvalidOffset is returned (wrapped) by Reader for an offset outside the file.
var ErrInvalidOffset = errors.New("invalid offset")

// Putter is implemented by drivers (both fs and s3) that write a whole file from
// a stream straight to its final path, with no staging copy: the file appears
// only if r ends with io.EOF after exactly size bytes (size < 0: unknown). Any
// other error from r (such as a digest mismatch the caller detects at the end
// of the stream), a size mismatch or the end of ctx leaves path untouched.
// The registry can use it when the digest is known before the body arrives
// (monolithic PUT ?digest=...), saving S3 the copy that Move needs.
type Putter interface {
	PutStream(ctx context.Context, path string, r io.Reader, size int64) (int64, error)
}

// ErrSizeMismatch is returned (wrapped) by PutStream when r does not give size bytes.
var ErrSizeMismatch = errors.New("stream size differs from the declared size")

// Cleaner is implemented by drivers (both fs and s3) whose crashes can leave
// invisible leftovers: temporary files on disk, unfinished multipart uploads on
// S3. Clean removes those older than olderThan and returns how many it removed.
// The registry's GC calls it; olderThan must exceed the longest single write.
type Cleaner interface {
	Clean(ctx context.Context, olderThan time.Duration) (int, error)
}

// Redirector is implemented by drivers whose files clients can fetch
// directly (S3): URLFor gives a URL, valid for expiry, that answers a GET of
// path (Range included) without going through the registry.
type Redirector interface {
	URLFor(ctx context.Context, path string, expiry time.Duration) (string, error)
}

// ErrPrecondition is returned (wrapped) by a Conditional write whose condition
// failed: the file exists (PutIfAbsent) or changed since it was read (PutIfMatch).
var ErrPrecondition = errors.New("precondition failed")

// Conditional is implemented by drivers (both fs and s3) that can write a small
// file only if it is absent or unchanged: compare-and-swap on storage that
// several registry processes share, the basis of their leases (upload
// exclusion, one GC at a time). A version is opaque (an ETag on S3).
type Conditional interface {
	// PutIfAbsent writes content at path only if no file is there.
	PutIfAbsent(ctx context.Context, path string, content []byte) (version string, err error)
	// PutIfMatch replaces the file at path only if its version is still version.
	PutIfMatch(ctx context.Context, path string, content []byte, version string) (string, error)
	// GetVersioned reads a file and its version.
	GetVersioned(ctx context.Context, path string) ([]byte, string, error)
}
