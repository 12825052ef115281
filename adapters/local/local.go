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
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
	"github.com/mlos-foundation/axon/schemas"
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
	if m.Kind == schemas.KindHubconf {
		if m.Entrypoint, err = hubconfEntrypoint(root, files); err != nil {
			return nil, fmt.Errorf("local: %s: %w", ref.ID, err)
		}
	}
	if m.Kind == "" {
		return nil, fmt.Errorf("local: %s holds no model axon knows (model.onnx, a transformers checkpoint, a SavedModel, TorchScript, a PyTorch Hub hubconf.py)", ref.ID)
	}
	return m, nil
}

// defRE finds the top-level functions of a hubconf.py: its entrypoints,
// those whose name does not start with "_".
var defRE = regexp.MustCompile(`(?m)^def ([A-Za-z][A-Za-z0-9_]*)\s*\(`)

// hubconfEntrypoint is the entrypoint of a local PyTorch Hub directory: a
// local path names no entrypoint, as pytorch/OWNER/REPO/MODEL does, so the
// hubconf.py must define exactly one.
func hubconfEntrypoint(root string, files []string) (string, error) {
	rel := ""
	for _, f := range files {
		if path.Base(f) == "hubconf.py" && (rel == "" || len(f) < len(rel)) {
			rel = f
		}
	}
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", err
	}
	var names []string
	for _, m := range defRE.FindAllSubmatch(b, -1) {
		names = append(names, string(m[1]))
	}
	switch len(names) {
	case 1:
		return names[0], nil
	case 0:
		return "", fmt.Errorf("%s defines no entrypoint (a top-level function)", rel)
	}
	return "", fmt.Errorf("%s defines %d entrypoints (%s); a local directory installs one: keep one, or install it from its repository as pytorch/OWNER/REPO/MODEL", rel, len(names), strings.Join(names, ", "))
}
