// Package fsutil holds the small file-system helpers several programs share.
package fsutil

import (
	"context"
	"io"
	"os"
	"path/filepath"
)

// Place puts src at dst, replacing dst: a hard link when both are on one file
// system (a 10 GB model is not copied twice), else a copy written to a temporary
// file beside dst and renamed over it, so dst is never seen half-written.
func Place(ctx context.Context, src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	_ = os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return Copy(ctx, src, dst)
}

// Copy copies src to dst through a temporary file and a rename, checking ctx
// between chunks.
func Copy(ctx context.Context, src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".axon-copy-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			tmp.Close()
			return err
		}
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := tmp.Write(buf[:n]); err != nil {
				tmp.Close()
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			tmp.Close()
			return rerr
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
