package artifact

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/schemas"
)

// DescribeDir writes the manifest.yaml Pack would for the model directory
// dir, without storing anything: base gives name, version and what else is
// known; the I/O schema is read from the ONNX graph, task, labels and
// tokenizer from config.json as for axon packages. The model file is
// base.Format.Model, else model.onnx, else the first .onnx file by path.
func DescribeDir(ctx context.Context, dir string, base *schemas.Manifest) (*schemas.Manifest, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b := *base
	b.Files = nil
	b.IO = schemas.IO{}
	if !reference.ValidTag(b.Version) {
		b.Version = reference.DefaultVersion
	}
	if b.Format.Model == "" {
		if _, err := os.Stat(filepath.Join(root, "model.onnx")); err != nil {
			b.Format.Model = firstONNX(root)
		}
	}
	if b.Format.Model == "" && !fileExists(filepath.Join(root, "model.onnx")) {
		return nil, fmt.Errorf("no ONNX model (.onnx file) in it")
	}
	b.Format.Name, b.Framework.Name = "onnx", "onnx"
	o := options{base: &b, concurrency: 2}
	m, err := baseManifest(root, &o)
	if err != nil {
		return nil, err
	}
	entries, cleanup, err := describeAndCollect(root, m, &o)
	defer cleanup()
	if err != nil {
		return nil, err
	}
	if err := describeModel(root, m, entries); err != nil {
		return nil, err
	}
	if err := hashAll(ctx, entries, o.concurrency); err != nil {
		return nil, err
	}
	m.Files, m.Resources.Bytes = nil, 0
	for _, e := range entries {
		m.Files = append(m.Files, schemas.File{Path: e.rel, Role: e.role, Digest: e.dgst.String(), Size: e.size})
		m.Resources.Bytes += e.size
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func firstONNX(root string) string {
	var found []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(d.Name()), ".onnx") {
			if rel, err := filepath.Rel(root, p); err == nil {
				found = append(found, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	sort.Strings(found)
	if len(found) == 0 {
		return ""
	}
	return found[0]
}
