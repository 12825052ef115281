package download

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlos-foundation/axon/adapters"
)

// MaxExtract bounds what one archive may unpack to (a zip bomb stops here).
const MaxExtract = 64 << 30

// ExtractTarGz unpacks a gzipped tar into dir. Entries that would leave dir,
// links, devices and other special files are refused.
func ExtractTarGz(r io.Reader, dir string) ([]string, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	var files []string
	var total int64
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if name == "" || name == "." {
			continue
		}
		name = strings.TrimSuffix(name, "/")
		dst, err := SafeJoin(dir, name)
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return nil, err
			}
		case tar.TypeReg:
			total += h.Size
			if total > MaxExtract {
				return nil, fmt.Errorf("extract: archive unpacks to more than %d bytes", int64(MaxExtract))
			}
			if err := writeFile(dst, tr, h.Size); err != nil {
				return nil, fmt.Errorf("extract %s: %w", name, err)
			}
			files = append(files, name)
		case tar.TypeXGlobalHeader, tar.TypeXHeader:
		default:
			return nil, fmt.Errorf("extract: %w: %q is a link or special file", adapters.ErrUnsafe, name)
		}
	}
}

// ExtractZip unpacks a zip file into dir, dropping the single top-level
// directory GitHub zipballs put everything under when stripTop is set.
func ExtractZip(path, dir string, stripTop bool) ([]string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	defer zr.Close()
	top := ""
	if stripTop {
		for _, f := range zr.File {
			first, _, _ := strings.Cut(f.Name, "/")
			if top == "" {
				top = first
			} else if first != top {
				top = ""
				break
			}
		}
	}
	var files []string
	var total int64
	for _, f := range zr.File {
		name := f.Name
		if top != "" {
			name = strings.TrimPrefix(strings.TrimPrefix(name, top), "/")
		}
		name = strings.TrimSuffix(name, "/")
		if name == "" {
			continue
		}
		dst, err := SafeJoin(dir, name)
		if err != nil {
			return nil, fmt.Errorf("extract: %w", err)
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return nil, err
			}
			continue
		case !mode.IsRegular():
			return nil, fmt.Errorf("extract: %w: %q is a link or special file", adapters.ErrUnsafe, name)
		}
		total += int64(f.UncompressedSize64)
		if total > MaxExtract || f.UncompressedSize64 > MaxExtract {
			return nil, fmt.Errorf("extract: archive unpacks to more than %d bytes", int64(MaxExtract))
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("extract %s: %w", name, err)
		}
		err = writeFile(dst, rc, int64(f.UncompressedSize64))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("extract %s: %w", name, err)
		}
		files = append(files, name)
	}
	return files, nil
}

func writeFile(dst string, r io.Reader, size int64) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(r, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("size %d, the archive says %d", n, size)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
