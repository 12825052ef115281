package artifact

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content"

	"github.com/mlos-foundation/axon/internal/fsutil"
)

// exportForeign writes a foreign artifact's files under root: raw layers at
// their path, archive layers (tar, tar+gzip, tar+zstd, whose entries are
// paths from the model root as modctl and kit write them) unpacked into a
// temporary directory first and moved into place once verified.
func exportForeign(ctx context.Context, src content.Fetcher, f *Foreign, root string) error {
	for _, x := range f.Files {
		if x.Archive != ArchiveNone {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(x.Path))); err == nil && fi.IsDir() {
			return fmt.Errorf("export: %s is a directory where the artifact has the file %s; move it away or export elsewhere", filepath.Join(root, filepath.FromSlash(x.Path)), x.Path)
		}
	}
	for _, x := range f.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := exportForeignFile(ctx, src, x, root); err != nil {
			return fmt.Errorf("export %s: %w", x.Path, err)
		}
	}
	return nil
}

func exportForeignFile(ctx context.Context, src content.Fetcher, x File, root string) error {
	rc, err := src.Fetch(ctx, x.Layer)
	if err != nil {
		return err
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, x.Layer)
	r := fsutil.ContextReader(ctx, vr)
	if x.Archive == ArchiveNone {
		if err := checkNoSymlinkParents(root, x.Path); err != nil {
			return err
		}
		target := filepath.Join(root, filepath.FromSlash(x.Path))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return writeAtomicVerified(target, r, vr.Verify)
	}
	tmp, err := os.MkdirTemp(root, ".axon-export-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	tr, done, err := uncompressed(x, r)
	if err != nil {
		return err
	}
	defer done()
	// The entries are hashed as they are unpacked: a compressed layer's
	// DiffID is checked at no extra read.
	dg := digest.Canonical.Digester()
	if err := Untar(io.TeeReader(tr, dg.Hash()), tmp); err != nil {
		return err
	}
	if _, err := io.Copy(dg.Hash(), tr); err != nil {
		return err
	}
	// The digest covers the whole blob, compression trailer included.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if err := vr.Verify(); err != nil {
		return err
	}
	if x.Archive != ArchiveTar {
		if err := checkDiffID(x, dg.Digest()); err != nil {
			return err
		}
	}
	return mergeInto(tmp, root)
}

// mergeInto moves the tree under tmp into root, replacing files of the same
// name; it refuses to put a file where a directory is, or to write through a
// symlink already in root.
func mergeInto(tmp, root string) error {
	return filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == tmp {
			return err
		}
		rel, err := filepath.Rel(tmp, p)
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(rel)
		target := filepath.Join(root, rel)
		if err := checkNoSymlinkParents(root, slash); err != nil {
			return err
		}
		if d.IsDir() {
			fi, err := os.Lstat(target)
			switch {
			case err == nil && !fi.IsDir():
				return fmt.Errorf("%s is a file where the artifact has a directory", target)
			case err == nil:
				return nil
			}
			return os.Mkdir(target, 0o755)
		}
		if fi, err := os.Lstat(target); err == nil && fi.IsDir() {
			return fmt.Errorf("%s is a directory where the artifact has the file %s", target, slash)
		}
		return os.Rename(p, target)
	})
}

// maxExpansion bounds how many times its size a compressed layer may unpack
// to (weights barely compress; text compresses some ten times).
const maxExpansion = 200

type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, fmt.Errorf("the layer unpacks to more than %d times its size; refusing it", maxExpansion)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
