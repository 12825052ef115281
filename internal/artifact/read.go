package artifact

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/schemas"
)

// Package is a read axon package.
type Package struct {
	Descriptor ocispec.Descriptor
	OCI        *ocispec.Manifest
	Manifest   *schemas.Manifest
	RawOCI     []byte
	RawConfig  []byte
	// Format is FormatAxon, or the other tool's format the artifact is in;
	// for those, Foreign says what it holds and Manifest is made from that
	// (or is the manifest.yaml it carries, EmbeddedManifest).
	Format           string
	Foreign          *Foreign
	EmbeddedManifest []byte
}

// NotPackageError says why an artifact is not an axon package, and what it holds.
type NotPackageError struct {
	Reason string
	Files  []string // layer titles (or digests) of the artifact
}

func (e *NotPackageError) Error() string {
	msg := "not an axon model package: " + e.Reason
	if len(e.Files) > 0 {
		msg += "; it holds " + strings.Join(e.Files, ", ")
	}
	return msg
}

// Check reads an OCI manifest and says whether it is an axon package; a
// *NotPackageError otherwise.
func Check(raw []byte, desc ocispec.Descriptor) (*ocispec.Manifest, error) {
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, &NotPackageError{Reason: fmt.Sprintf("it is a %s, not an OCI image manifest", desc.MediaType)}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &NotPackageError{Reason: "its manifest is not valid JSON"}
	}
	var files []string
	for _, l := range m.Layers {
		name := l.Annotations[schemas.AnnotationTitle]
		if name == "" {
			name = l.Digest.String()
		}
		files = append(files, fmt.Sprintf("%s (%d bytes)", name, l.Size))
	}
	if m.Config.MediaType != schemas.MediaTypeManifest {
		at := m.ArtifactType
		if at == "" {
			at = m.Config.MediaType
		}
		return &m, &NotPackageError{Reason: fmt.Sprintf("its type is %s, not %s", at, schemas.ArtifactType), Files: files}
	}
	if err := CheckLayerPaths(m.Layers); err != nil {
		return &m, &NotPackageError{Reason: err.Error(), Files: files}
	}
	return &m, nil
}

// CheckAny is Check that also accepts the model formats of other tools
// (ModelPack, KitOps ModelKits, Docker Model Runner); it returns the format.
func CheckAny(raw []byte, desc ocispec.Descriptor) (*ocispec.Manifest, string, error) {
	m, err := Check(raw, desc)
	if err == nil {
		return m, FormatAxon, nil
	}
	if m == nil {
		return nil, "", err
	}
	f := Identify(m)
	if f == "" || f == FormatAxon {
		return m, "", err
	}
	return m, f, nil
}

// Read reads and validates the package at desc: an axon package, or a model
// artifact of another tool's format (Package.Format says which).
func Read(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) (*Package, error) {
	raw, err := content.FetchAll(ctx, src, desc)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", desc.Digest, err)
	}
	m, format, err := CheckAny(raw, desc)
	if err != nil {
		return nil, err
	}
	if format != FormatAxon {
		return readForeign(ctx, src, desc, raw, m, format)
	}
	cfg, err := content.FetchAll(ctx, src, m.Config)
	if err != nil {
		return nil, fmt.Errorf("read manifest.yaml: %w", err)
	}
	pm, err := schemas.Parse(cfg)
	if err != nil {
		return nil, fmt.Errorf("manifest.yaml: %w", err)
	}
	if err := CheckFileDigests(m.Layers, pm); err != nil {
		return nil, err
	}
	return &Package{Descriptor: desc, OCI: m, Manifest: pm, RawOCI: raw, RawConfig: cfg, Format: FormatAxon}, nil
}

// LayerPath is the file path a layer is written to.
func LayerPath(l ocispec.Descriptor) string {
	if p := l.Annotations[schemas.AnnotationFilepath]; p != "" {
		return p
	}
	return l.Annotations[schemas.AnnotationTitle]
}

// Export writes a package's files (and its manifest.yaml) under dir, by name.
// Every path is checked to stay inside dir and every blob is verified; files
// are written to temporary names and renamed into place when complete.
func Export(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor, dir string) error {
	pkg, err := Read(ctx, src, desc)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("export: %s exists and is not a directory; name a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if pkg.Foreign != nil {
		return exportForeign(ctx, src, pkg.Foreign, root)
	}
	// Files of the package replace files of the same name, as with oras pull;
	// a directory in a file's place stops the export before anything is written.
	for _, l := range pkg.OCI.Layers {
		rel := LayerPath(l)
		if IsTarMediaType(l.MediaType) || schemas.CheckPath(rel) != nil {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel))); err == nil && fi.IsDir() {
			return fmt.Errorf("export: %s is a directory where the package has the file %s; move it away or export elsewhere", filepath.Join(dir, filepath.FromSlash(rel)), rel)
		}
	}
	for _, l := range pkg.OCI.Layers {
		rel := LayerPath(l)
		if err := schemas.CheckPath(rel); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := exportLayer(ctx, src, l, root, rel); err != nil {
			return fmt.Errorf("export %s: %w", rel, err)
		}
	}
	if err := writeAtomic(filepath.Join(root, schemas.ManifestFile), strings.NewReader(string(pkg.RawConfig))); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

func exportLayer(ctx context.Context, src content.Fetcher, l ocispec.Descriptor, root, rel string) error {
	rc, err := src.Fetch(ctx, l)
	if err != nil {
		return err
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, l)
	target := filepath.Join(root, filepath.FromSlash(rel))
	if err := checkNoSymlinkParents(root, rel); err != nil {
		return err
	}
	if IsTarMediaType(l.MediaType) {
		tmp, err := os.MkdirTemp(filepath.Dir(ensureParent(target)), ".axon-export-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := Untar(fsutil.ContextReader(ctx, vr), tmp); err != nil {
			return err
		}
		if err := vr.Verify(); err != nil {
			return err
		}
		os.RemoveAll(target)
		return os.Rename(tmp, target)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	return writeAtomicVerified(target, fsutil.ContextReader(ctx, vr), vr.Verify)
}

func ensureParent(p string) string {
	os.MkdirAll(filepath.Dir(p), 0o755)
	return p
}

// checkNoSymlinkParents refuses to write through a symlink already in dir.
func checkNoSymlinkParents(root, rel string) error {
	cur := root
	parts := strings.Split(rel, "/")
	for _, p := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, p)
		fi, err := os.Lstat(cur)
		if err != nil {
			return nil
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symlink in the target directory; refusing to write through it", cur)
		}
	}
	return nil
}

// Untar extracts a layer of the .tar media types (a directory kept whole) into dir.
// Only files and directories are allowed; entries that would leave dir or write
// through a symlink are refused. It reads r to the end so a verifying reader sees
// the whole blob.
func Untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Drain so the digest covers the whole blob (tar padding).
			_, err := io.Copy(io.Discard, r)
			return err
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		if err := schemas.CheckPath(name); err != nil {
			return fmt.Errorf("tar entry: %w", err)
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := checkNoSymlinkParents(dir, name); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("tar entry %s: only files and directories are allowed", name)
		}
	}
}

func writeAtomic(target string, r io.Reader) error {
	return writeAtomicVerified(target, r, nil)
}

func writeAtomicVerified(target string, r io.Reader, verify func() error) error {
	f, err := os.CreateTemp(filepath.Dir(target), "."+path.Base(filepath.ToSlash(target))+".*.part")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && verify != nil {
		err = verify()
	}
	if err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), target)
}

// Unpack is Export under the name the contracts use.
func Unpack(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor, dir string) error {
	return Export(ctx, src, desc, dir)
}
