package converter

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/internal/onnx"
)

// listFiles returns the regular files under dir, relative with '/' separators, sorted.
func listFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.Type().IsRegular() {
			if rel, err := filepath.Rel(dir, p); err == nil {
				out = append(out, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// copyOriginals places the input's files under outDir/original/ and returns
// their package paths.
func copyOriginals(ctx context.Context, in Input, outDir string) ([]string, error) {
	files := in.Files
	if files == nil {
		files = listFiles(in.Dir)
	}
	var out []string
	for _, f := range files {
		rel := filepath.ToSlash(f)
		if !onnx.SafeRelPath(rel) {
			return nil, fmt.Errorf("keep originals: file %q leaves the model directory", f)
		}
		rel = path.Clean(rel)
		src := filepath.Join(in.Dir, filepath.FromSlash(rel))
		fi, err := os.Lstat(src)
		if err != nil {
			return nil, fmt.Errorf("keep originals: %w", err)
		}
		if !fi.Mode().IsRegular() {
			continue // links could point anywhere; directories are walked by listFiles
		}
		dst := path.Join("original", rel)
		if err := fsutil.Place(ctx, src, filepath.Join(outDir, filepath.FromSlash(dst))); err != nil {
			return nil, fmt.Errorf("keep originals: %s: %w", rel, err)
		}
		out = append(out, dst)
	}
	return out, nil
}

// placeModel moves or links an ONNX model and its external data from srcDir
// (model at srcModel, relative) into outDir/model.onnx, checking it with Inspect.
func placeModel(ctx context.Context, srcDir, srcModel, outDir string, move bool) (*onnx.Info, []string, error) {
	src := filepath.Join(srcDir, filepath.FromSlash(srcModel))
	info, err := onnx.Inspect(src)
	if err != nil {
		return nil, nil, err
	}
	modelDir := filepath.Dir(src)
	put := func(from, to string) error {
		if move {
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				return err
			}
			if err := os.Rename(from, to); err == nil {
				return nil
			}
		}
		return fsutil.Place(ctx, from, to)
	}
	for _, ext := range info.ExternalData {
		from := filepath.Join(modelDir, filepath.FromSlash(ext))
		if _, err := os.Stat(from); err != nil {
			return nil, nil, fmt.Errorf("%s references external data %s, which is missing", srcModel, ext)
		}
		if err := put(from, filepath.Join(outDir, filepath.FromSlash(ext))); err != nil {
			return nil, nil, fmt.Errorf("place %s: %w", ext, err)
		}
	}
	if err := put(src, filepath.Join(outDir, "model.onnx")); err != nil {
		return nil, nil, fmt.Errorf("place model.onnx: %w", err)
	}
	return info, info.ExternalData, nil
}
