// Package local "fetches" a model from a local directory (or file:// URL): the
// files stay where they are; the revision is a digest of their names and content,
// so the same directory always installs as the same revision.
package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
)

// Adapter reads local directories.
type Adapter struct{}

// Hub implements adapters.Adapter.
func (Adapter) Hub() string { return adapters.HubLocal }

// Fetch implements adapters.Adapter; dir is unused: the model stays in ref.ID.
func (Adapter) Fetch(ctx context.Context, ref adapters.Ref, _ string) (*adapters.Model, error) {
	root, err := filepath.Abs(ref.ID)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("local: %w: %s", adapters.ErrNotFound, ref.ID)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("local: %s is not a directory", ref.ID)
	}
	var files []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || !d.Type().IsRegular() {
			return nil
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		in, err := os.Open(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
		fh := sha256.New()
		_, err = io.Copy(fh, in)
		in.Close()
		if err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
		fmt.Fprintf(h, "%s %x\n", f, fh.Sum(nil))
	}
	m := &adapters.Model{
		Dir: root, Hub: adapters.HubLocal, ID: root, Revision: "sha256-" + hex.EncodeToString(h.Sum(nil))[:16],
		URL: "file://" + filepath.ToSlash(root), Files: files,
	}
	adapters.Detect(m)
	if m.Kind == "" {
		return nil, fmt.Errorf("local: %s holds no model axon knows (model.onnx, a transformers checkpoint, a SavedModel, TorchScript)", ref.ID)
	}
	return m, nil
}
