package artifact

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content"

	"github.com/mlos-foundation/axon/internal/fsutil"
)

// A ModelPack config lists the DiffID (digest uncompressed) of every layer,
// as an image config's rootfs does. An uncompressed layer's DiffID is its
// digest, checked when the artifact is read; a compressed layer's is checked
// against its bytes by VerifyDiffIDs (axon pull) and while it is unpacked.

// DiffIDError says that a layer's uncompressed bytes are not what the
// artifact's config claims.
type DiffIDError struct {
	Path       string
	Want, Have string
}

func (e *DiffIDError) Error() string {
	return fmt.Sprintf("layer %s: its uncompressed content is %s, but the ModelPack config's modelfs.diffIds says %s; the artifact is damaged or was repacked without updating its config", e.Path, e.Have, e.Want)
}

// checkDiffIDs matches the config's diffIds with the layers: one per layer,
// well formed, equal to the digest of an uncompressed layer. An artifact
// whose config lists none is accepted (nothing to check).
func (f *Foreign) checkDiffIDs() error {
	if len(f.diffIDs) == 0 {
		return nil
	}
	if len(f.diffIDs) != len(f.Files) {
		return fmt.Errorf("the ModelPack config's modelfs.diffIds lists %d layers, the manifest has %d", len(f.diffIDs), len(f.Files))
	}
	for i, d := range f.diffIDs {
		x := &f.Files[i]
		if err := d.Validate(); err != nil {
			return fmt.Errorf("the ModelPack config's modelfs.diffIds[%d] (%s): %w", i, x.Path, err)
		}
		switch x.Archive {
		case ArchiveNone, ArchiveTar:
			if d.String() != x.Digest {
				return &DiffIDError{Path: x.Path, Want: d.String(), Have: x.Digest}
			}
		default:
			x.DiffID = d.String()
		}
	}
	return nil
}

// VerifyDiffIDs decompresses every compressed layer of f from src and checks
// it against the DiffID the config lists (bounded as at unpack: a layer may
// not unpack to more than maxExpansion times its size).
func VerifyDiffIDs(ctx context.Context, src content.Fetcher, f *Foreign) error {
	for _, x := range f.Files {
		if x.DiffID == "" {
			continue
		}
		if err := verifyDiffID(ctx, src, x); err != nil {
			return err
		}
	}
	return nil
}

func verifyDiffID(ctx context.Context, src content.Fetcher, x File) error {
	rc, err := src.Fetch(ctx, x.Layer)
	if err != nil {
		return fmt.Errorf("layer %s: %w", x.Path, err)
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, x.Layer)
	r := fsutil.ContextReader(ctx, vr)
	ur, done, err := uncompressed(x, r)
	if err != nil {
		return fmt.Errorf("layer %s: %w", x.Path, err)
	}
	defer done()
	dg := digest.Canonical.Digester()
	if _, err := io.Copy(dg.Hash(), ur); err != nil {
		return fmt.Errorf("layer %s: %w", x.Path, err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("layer %s: %w", x.Path, err)
	}
	if err := vr.Verify(); err != nil {
		return fmt.Errorf("layer %s: %w", x.Path, err)
	}
	return checkDiffID(x, dg.Digest())
}

func checkDiffID(x File, have digest.Digest) error {
	if x.DiffID != "" && have.String() != x.DiffID {
		return &DiffIDError{Path: x.Path, Want: x.DiffID, Have: have.String()}
	}
	return nil
}

// uncompressed is a compressed layer's content as a tar stream, bounded so
// that a few KiB of gzip cannot fill the disk; a plain tar as it is.
func uncompressed(x File, r io.Reader) (io.Reader, func(), error) {
	switch x.Archive {
	case ArchiveTarGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return &boundedReader{r: zr, left: maxExpansion*x.Size + 1<<20}, func() { zr.Close() }, nil
	case ArchiveTarZstd:
		// Bounded window: a hostile frame cannot ask for gigabytes.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(128<<20))
		if err != nil {
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return &boundedReader{r: zr, left: maxExpansion*x.Size + 1<<20}, zr.Close, nil
	}
	return r, func() {}, nil
}
