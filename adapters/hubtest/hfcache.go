package hubtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// WriteHFCache lays the files of repository id at rev out in cacheDir exactly as
// huggingface_hub's cache does after a download: models--ORG--NAME/blobs/ETAG
// (the sha256 of an LFS file, the git blob id of any other), snapshots/COMMIT/PATH
// as relative symlinks to those blobs, and refs/REV holding the commit. Only
// the files named in only are written (all when only is empty).
func (h *HF) WriteHFCache(cacheDir, id, rev string, only ...string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	repo := h.repos[id]
	if repo == nil {
		return "", fmt.Errorf("hubtest: no repository %s", id)
	}
	c := repo.commit(rev)
	if c == nil {
		return "", fmt.Errorf("hubtest: %s has no revision %s", id, rev)
	}
	want := map[string]bool{}
	for _, p := range only {
		want[p] = true
	}
	root := filepath.Join(cacheDir, "models--"+strings.ReplaceAll(id, "/", "--"))
	for _, p := range c.paths {
		if len(want) > 0 && !want[p] {
			continue
		}
		b := c.files[p]
		etag := b.gitOID
		if b.lfs {
			etag = b.sha256
		}
		blob := filepath.Join(root, "blobs", etag)
		if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
			return "", err
		}
		data := b.data
		if b.disk != "" {
			var err error
			if data, err = os.ReadFile(b.disk); err != nil {
				return "", err
			}
		}
		if err := os.WriteFile(blob, data, 0o644); err != nil {
			return "", err
		}
		link := filepath.Join(root, "snapshots", c.sha, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return "", err
		}
		rel, err := filepath.Rel(filepath.Dir(link), blob)
		if err != nil {
			return "", err
		}
		if err := os.Symlink(rel, link); err != nil {
			return "", err
		}
	}
	if rev != c.sha {
		ref := filepath.Join(root, "refs", filepath.FromSlash(rev))
		if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(ref, []byte(c.sha), 0o644); err != nil {
			return "", err
		}
	}
	return c.sha, nil
}
