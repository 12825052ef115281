// Package artifact turns a model directory into an axon package (one OCI image
// manifest whose config is manifest.yaml and whose layers are the files) and
// back. Packing is reproducible: the same directory and options give the same
// manifest digest.
package artifact

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/internal/onnx"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/schemas"
)

// Epoch is the created time of packages whose source names no time, so that
// packing stays reproducible.
var Epoch = time.Unix(0, 0).UTC()

// Option configures Pack.
type Option func(*options)

type options struct {
	namespace, name, version string
	base                     *schemas.Manifest
	created                  time.Time
	wholeDirs                []string
	tempDir                  string
	concurrency              int
	progress                 func(path string, n int64)
	format                   string
}

// WithName sets the package's namespace and name ("hf", "bert-base-uncased"),
// overriding manifest.yaml.
func WithName(namespace, name string) Option {
	return func(o *options) { o.namespace, o.name = namespace, name }
}

// WithRepository sets namespace and name from "NAMESPACE/NAME".
func WithRepository(repo string) Option {
	return func(o *options) {
		o.namespace, o.name, _ = strings.Cut(repo, "/")
	}
}

// WithVersion sets the package version, overriding manifest.yaml.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// WithManifest starts from m instead of the directory's manifest.yaml; files,
// I/O schema, format details and resources are still filled in from the files.
func WithManifest(m *schemas.Manifest) Option { return func(o *options) { o.base = m } }

// WithCreated pins the created annotation (default: source.created, else Epoch).
func WithCreated(t time.Time) Option { return func(o *options) { o.created = t.UTC() } }

// WithWholeDirs packs these directories (relative, '/' separators) as one tar
// layer each, for formats that need a directory kept whole. Directories holding
// a saved_model.pb are kept whole without asking.
func WithWholeDirs(dirs ...string) Option {
	return func(o *options) { o.wholeDirs = append(o.wholeDirs, dirs...) }
}

// WithTempDir is where tar layers are built (default os.TempDir()).
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithConcurrency bounds how many files are hashed and stored at once.
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// WithProgress is called with the number of bytes stored for each file.
func WithProgress(fn func(path string, n int64)) Option { return func(o *options) { o.progress = fn } }

// WithFormat chooses the artifact format: FormatAxon (default; manifest.yaml
// is the config) or FormatModelPack (a CNCF ModelPack artifact: ModelPack
// config JSON, manifest.yaml carried as a weight.config layer).
func WithFormat(f string) Option { return func(o *options) { o.format = f } }

// entry is one file or whole directory of the package.
type entry struct {
	rel   string // '/' separators
	abs   string // file on disk (the tar for a whole directory)
	dir   bool
	role  string
	size  int64
	dgst  digest.Digest
	isTmp bool
}

// Ingester is a content store that takes a file in one pass: its Writer
// hashes what it is given and files it under the digest it computed itself
// (*localstore.Store is one).
type Ingester interface {
	Writer(ctx context.Context, key string) (*fsutil.Writer, error)
}

// Pack reads dir (manifest.yaml if present, else generated), stores the
// package's blobs in dst and returns the manifest descriptor. Nothing is
// tagged; the manifest is pushed last, so a failed pack leaves no package.
func Pack(ctx context.Context, dir string, dst content.Pusher, opts ...Option) (ocispec.Descriptor, error) {
	o := options{concurrency: 4}
	for _, opt := range opts {
		opt(&o)
	}
	if o.concurrency < 1 {
		o.concurrency = 1
	}
	if o.format != "" && o.format != FormatAxon && o.format != FormatModelPack {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: format %q: axon or modelpack", dir, o.format)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: not a directory; give the directory that holds model.onnx", dir)
	}

	m, err := baseManifest(root, &o)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	entries, cleanup, err := describeAndCollect(root, m, &o)
	defer cleanup()
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := describeModel(root, m, entries); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	ing, oneCopy := dst.(Ingester)
	if oneCopy {
		// Copy each file into the store while the store hashes it: one read
		// instead of hash-then-push's two, and no second hashing pass. The
		// blobs are visible at once but untagged: a failed pack leaves them to
		// prune, like a failed push.
		err = ingestAll(ctx, ing, entries, o)
	} else {
		err = hashAll(ctx, entries, o.concurrency)
	}
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	claimed := map[string]string{}
	for _, f := range m.Files {
		claimed[f.Path] = f.Digest
	}
	for _, e := range entries {
		// A whole directory's tar digest depends on the format (ModelPack tars
		// carry the directory's path): its files are what the tar holds.
		if c := claimed[e.rel]; c != "" && !e.dir && c != e.dgst.String() {
			return ocispec.Descriptor{}, fmt.Errorf("pack %s: %s: %s lists digest %s but the file has %s", dir, e.rel, schemas.ManifestFile, c, e.dgst)
		}
	}
	m.Files = m.Files[:0]
	m.Resources.Bytes = 0
	for _, e := range entries {
		m.Files = append(m.Files, schemas.File{Path: e.rel, Role: e.role, Digest: e.dgst.String(), Size: e.size})
		m.Resources.Bytes += e.size
	}
	if err := m.Validate(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: manifest.yaml: %w", dir, err)
	}
	cfg, err := m.Marshal()
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	created := o.created
	if created.IsZero() {
		created = Epoch
		if m.Source != nil && m.Source.Created != "" {
			if t, err := time.Parse(time.RFC3339, m.Source.Created); err == nil {
				created = t.UTC()
			}
		}
	}

	configDesc := ocispec.Descriptor{MediaType: schemas.MediaTypeManifest, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	layers := make([]ocispec.Descriptor, len(entries))
	for i, e := range entries {
		title := e.rel
		if e.dir {
			title += ".tar"
		}
		layers[i] = ocispec.Descriptor{
			MediaType: MediaTypeFor(e.role, e.dir),
			Digest:    e.dgst,
			Size:      e.size,
			Annotations: map[string]string{
				schemas.AnnotationTitle:    title,
				schemas.AnnotationFilepath: e.rel,
			},
		}
	}
	if err := CheckLayerPaths(layers); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	ociConfig, ociConfigBytes, artifactType := configDesc, cfg, schemas.ArtifactType
	if o.format == FormatModelPack {
		if ociConfigBytes, err = modelPackLayout(m, cfg, configDesc, created, &layers); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
		}
		ociConfig = ocispec.Descriptor{MediaType: MediaTypeModelPackConfig, Digest: digest.FromBytes(ociConfigBytes), Size: int64(len(ociConfigBytes))}
		artifactType = ArtifactTypeModelPack
	}
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       ociConfig,
		Layers:       layers,
		Annotations:  manifestAnnotations(m, created),
	}
	manBytes, err := json.Marshal(man)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	manDesc := ocispec.Descriptor{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Digest:       digest.FromBytes(manBytes),
		Size:         int64(len(manBytes)),
	}

	manifestYAML := configDesc
	if o.format == FormatModelPack {
		manifestYAML = layers[len(layers)-1] // stored as the layer it is (stores may key by media type)
	}
	if err := pushBytes(ctx, dst, manifestYAML, cfg); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: store manifest.yaml: %w", dir, err)
	}
	if ociConfig.Digest != configDesc.Digest {
		if err := pushBytes(ctx, dst, ociConfig, ociConfigBytes); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("pack %s: store ModelPack config: %w", dir, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency)
	for i, e := range entries {
		// layers may have one more (manifest.yaml) than entries: pushed above.
		g.Go(func() error {
			if oneCopy {
				return nil // stored by ingestAll
			}
			if err := pushFile(gctx, dst, layers[i], e.abs, o.progress, e.rel); err != nil {
				return fmt.Errorf("store %s: %w", e.rel, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: %w", dir, err)
	}
	if err := pushBytes(ctx, dst, manDesc, manBytes); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pack %s: store manifest: %w", dir, err)
	}
	return manDesc, nil
}

// MediaTypeFor is the ModelPack layer media type of a file role.
func MediaTypeFor(role string, dir bool) string {
	switch role {
	case schemas.RoleConfig, schemas.RoleTokenizer:
		if dir {
			return schemas.MediaTypeWeightConfigTar
		}
		return schemas.MediaTypeWeightConfig
	case schemas.RoleDoc:
		if dir {
			return schemas.MediaTypeDocTar
		}
		return schemas.MediaTypeDoc
	case schemas.RoleCode:
		if dir {
			return schemas.MediaTypeCodeTar
		}
		return schemas.MediaTypeCode
	}
	if dir {
		return schemas.MediaTypeWeightTar
	}
	return schemas.MediaTypeWeight
}

// IsTarMediaType reports whether a layer holds a whole directory.
func IsTarMediaType(mt string) bool { return strings.HasSuffix(mt, ".tar") }

func manifestAnnotations(m *schemas.Manifest, created time.Time) map[string]string {
	a := map[string]string{
		schemas.AnnotationTitle:   m.Namespace + "/" + m.Name,
		schemas.AnnotationVersion: m.Version,
		schemas.AnnotationCreated: created.Format(time.RFC3339),
	}
	if m.Description != "" {
		a[schemas.AnnotationDescription] = m.Description
	}
	lic := m.License
	if lic == "" && m.Source != nil {
		lic = m.Source.License
	}
	if lic != "" {
		a[schemas.AnnotationLicenses] = lic
	}
	if m.Source != nil {
		if m.Source.URL != "" {
			a[schemas.AnnotationSource] = m.Source.URL
		}
		if m.Source.Revision != "" {
			a[schemas.AnnotationRevision] = m.Source.Revision
		}
	}
	return a
}

func baseManifest(root string, o *options) (*schemas.Manifest, error) {
	var m *schemas.Manifest
	if o.base != nil {
		c := *o.base
		c.Files = append([]schemas.File(nil), o.base.Files...)
		m = &c
	} else {
		b, err := os.ReadFile(filepath.Join(root, schemas.ManifestFile))
		switch {
		case err == nil:
			if m, err = schemas.ParsePartial(b); err != nil {
				return nil, fmt.Errorf("%s: %w", schemas.ManifestFile, err)
			}
		case errors.Is(err, fs.ErrNotExist):
			m = &schemas.Manifest{}
		default:
			return nil, err
		}
	}
	if o.namespace != "" {
		m.Namespace = o.namespace
	}
	if o.name != "" {
		m.Name = o.name
	}
	if o.version != "" {
		m.Version = o.version
	}
	if m.Namespace == "" || m.Name == "" {
		return nil, errors.New("the package needs a name: give --name NAMESPACE/NAME or set namespace and name in manifest.yaml")
	}
	if !reference.ValidRepository(m.Namespace+"/"+m.Name) || strings.Contains(m.Namespace, "/") {
		return nil, fmt.Errorf("name %q: lower-case letters, digits and . _ - between '/' (NAMESPACE/NAME)", m.Namespace+"/"+m.Name)
	}
	if m.Version == "" {
		m.Version = reference.DefaultVersion
	}
	if !reference.ValidTag(m.Version) {
		return nil, fmt.Errorf("version %q: letters, digits, '.', '_' and '-', at most 128", m.Version)
	}
	if m.APIVersion == "" {
		m.APIVersion = schemas.APIVersion
	}
	if m.Kind == "" {
		m.Kind = schemas.Kind
	}
	if m.Format.Name == "" {
		m.Format.Name = "onnx"
	}
	if m.Framework.Name == "" {
		m.Framework.Name = "onnx"
	}
	return m, nil
}

// describeAndCollect fills m from the directory's config files (before roles
// are assigned, so that the tokenizer files found get theirs) and collects its
// entries. cleanup, never nil, removes the temporary files collect made.
func describeAndCollect(root string, m *schemas.Manifest, o *options) (entries []*entry, cleanup func(), err error) {
	cleanup = func() {
		for _, e := range entries {
			if e.isTmp {
				os.Remove(e.abs)
			}
		}
	}
	if err := DescribeFromConfig(root, m); err != nil {
		return nil, cleanup, err
	}
	entries, err = collect(root, m, o)
	return entries, cleanup, err
}

// collect lists the package's files: regular files under root (hidden ones and
// manifest.yaml skipped), whole directories as tar entries. Symlinks are
// followed only when they stay inside root.
func collect(root string, m *schemas.Manifest, o *options) ([]*entry, error) {
	roles := map[string]string{}
	whole := map[string]bool{}
	for _, d := range o.wholeDirs {
		if err := schemas.CheckPath(d); err != nil {
			return nil, fmt.Errorf("whole directory: %w", err)
		}
		// A typo would otherwise pack the directory file by file, silently.
		if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(d))); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("whole directory %q: no such directory in the package directory", d)
		}
		whole[d] = true
	}
	for i, f := range m.Files {
		if err := schemas.CheckPath(f.Path); err != nil {
			return nil, fmt.Errorf("%s: files[%d].path: %w", schemas.ManifestFile, i, err)
		}
		roles[f.Path] = f.Role
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, fmt.Errorf("%s: files[%d].path: %q is not in the directory", schemas.ManifestFile, i, f.Path)
		}
		if fi.IsDir() {
			whole[f.Path] = true
		}
	}
	var entries []*entry
	seen := map[string]bool{}
	visited := map[string]bool{}
	var walk func(absDir, relDir string) error
	walk = func(absDir, relDir string) error {
		real, err := filepath.EvalSymlinks(absDir)
		if err != nil {
			return err
		}
		if visited[real] {
			return fmt.Errorf("%s: directory loop (a symlink back into the package)", relDir)
		}
		visited[real] = true
		des, err := os.ReadDir(absDir)
		if err != nil {
			return err
		}
		for _, de := range des {
			name := de.Name()
			rel := path.Join(relDir, name)
			if relDir == "" {
				rel = name
			}
			if strings.HasPrefix(name, ".") || (relDir == "" && name == schemas.ManifestFile) {
				continue
			}
			abs := filepath.Join(absDir, name)
			fi, err := resolveInside(root, abs, rel)
			if err != nil {
				return err
			}
			switch {
			case fi.IsDir():
				if whole[rel] || isSavedModelDir(abs) {
					prefix := ""
					if o.format == FormatModelPack {
						// ModelPack tars hold paths from the model root (modctl, kit).
						prefix = rel + "/"
					}
					e, err := tarDir(root, abs, rel, prefix, o.tempDir)
					if err != nil {
						return err
					}
					entries = append(entries, e)
					seen[rel] = true
					continue
				}
				seen[rel] = true
				if err := walk(abs, rel); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				entries = append(entries, &entry{rel: rel, abs: abs, size: fi.Size()})
			default:
				return fmt.Errorf("%s: not a regular file or directory", rel)
			}
		}
		return nil
	}
	if err := walk(root, ""); err != nil {
		return entries, err
	}
	for _, e := range entries {
		if r, ok := roles[e.rel]; ok && r != "" {
			e.role = r
		}
	}
	return entries, nil
}

// resolveInside stats p, following a symlink only when its target stays inside root.
func resolveInside(root, p, rel string) (fs.FileInfo, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		return fi, nil
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, fmt.Errorf("%s: broken symlink", rel)
	}
	if r, err := filepath.Rel(root, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return nil, fmt.Errorf("%s: symlink leaves the package directory (to %s)", rel, target)
	}
	return os.Stat(target)
}

func isSavedModelDir(abs string) bool {
	_, err := os.Stat(filepath.Join(abs, "saved_model.pb"))
	return err == nil
}

// tarDir writes a reproducible tar of a directory: entries sorted, times fixed
// to Epoch, owner 0:0, modes normalised.
func tarDir(root, abs, rel, prefix, tempDir string) (*entry, error) {
	f, err := os.CreateTemp(tempDir, "axon-pack-*.tar")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	e := &entry{rel: rel, abs: f.Name(), dir: true, isTmp: true}
	tw := tar.NewWriter(f)
	if prefix != "" {
		if err := tw.WriteHeader(&tar.Header{Name: prefix, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: Epoch, Format: tar.FormatPAX}); err != nil {
			f.Close()
			return e, fmt.Errorf("%s: %w", rel, err)
		}
	}
	var add func(dirAbs, dirRel string) error
	add = func(dirAbs, dirRel string) error {
		des, err := os.ReadDir(dirAbs)
		if err != nil {
			return err
		}
		sort.Slice(des, func(i, j int) bool { return des[i].Name() < des[j].Name() })
		for _, de := range des {
			name := path.Join(dirRel, de.Name())
			p := filepath.Join(dirAbs, de.Name())
			fi, err := resolveInside(root, p, rel+"/"+name)
			if err != nil {
				return err
			}
			hdr := &tar.Header{Name: prefix + name, ModTime: Epoch, Uid: 0, Gid: 0, Format: tar.FormatPAX}
			switch {
			case fi.IsDir():
				hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, prefix+name+"/", 0o755
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
				if err := add(p, name); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, fi.Size()
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
				src, err := os.Open(p)
				if err != nil {
					return err
				}
				_, err = io.Copy(tw, src)
				src.Close()
				if err != nil {
					return err
				}
			default:
				return fmt.Errorf("%s/%s: not a regular file or directory", rel, name)
			}
		}
		return nil
	}
	err = add(abs, "")
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return e, fmt.Errorf("%s: %w", rel, err)
	}
	return e, nil
}

// describeModel finds the model file, reads its graph and assigns roles.
func describeModel(root string, m *schemas.Manifest, entries []*entry) error {
	model := m.ModelPath()
	var found *entry
	for _, e := range entries {
		if e.rel == model && !e.dir {
			found = e
		}
	}
	if found == nil {
		return fmt.Errorf("no %s in the directory (the package's model file, format.model)", model)
	}
	info, err := onnx.Inspect(found.abs)
	if err != nil {
		return fmt.Errorf("%s: %w", model, err)
	}
	if len(m.IO.Inputs) == 0 && len(m.IO.Outputs) == 0 {
		m.IO.Inputs, m.IO.Outputs = info.Inputs, info.Outputs
	} else {
		if err := matchIO("io.inputs", m.IO.Inputs, info.Inputs, model); err != nil {
			return err
		}
		if err := matchIO("io.outputs", m.IO.Outputs, info.Outputs, model); err != nil {
			return err
		}
	}
	if m.IO.Inputs == nil {
		m.IO.Inputs = []schemas.Tensor{}
	}
	if m.IO.Outputs == nil {
		m.IO.Outputs = []schemas.Tensor{}
	}
	if m.Format.Opset == 0 {
		m.Format.Opset = info.Opset
	}
	if m.Format.IRVersion == 0 {
		m.Format.IRVersion = info.IRVersion
	}
	if m.Resources.Parameters == 0 {
		m.Resources.Parameters = info.Parameters
	}
	external := map[string]bool{}
	modelDir := path.Dir(model)
	for _, x := range info.ExternalData {
		external[path.Join(modelDir, x)] = true
	}
	have := map[string]bool{}
	for _, e := range entries {
		have[e.rel] = true
	}
	for x := range external {
		if !have[x] {
			return fmt.Errorf("%s: external data %q is missing from the directory", model, x)
		}
	}
	var tok map[string]bool
	if m.Preprocessing != nil && m.Preprocessing.Tokenizer != nil {
		tok = map[string]bool{}
		for _, f := range m.Preprocessing.Tokenizer.Files {
			tok[f] = true
		}
	}
	for _, e := range entries {
		switch {
		case e == found:
			e.role = schemas.RoleModel
		case e.role != "":
		case external[e.rel]:
			e.role = schemas.RoleWeights
		default:
			e.role = guessRole(e.rel, tok)
		}
	}
	// Stable order: the model first, then by path.
	sort.SliceStable(entries, func(i, j int) bool {
		if (entries[i] == found) != (entries[j] == found) {
			return entries[i] == found
		}
		return entries[i].rel < entries[j].rel
	})
	return nil
}

// matchIO checks a declared I/O schema against the graph: same tensors, in
// order, with the same dtypes and ranks; fixed sizes must agree, while a
// declared dimension may name one the graph leaves open.
func matchIO(at string, declared, graph []schemas.Tensor, model string) error {
	if len(declared) != len(graph) {
		return fmt.Errorf("%s: %s: declares %d tensors, %s has %d", schemas.ManifestFile, at, len(declared), model, len(graph))
	}
	for i, d := range declared {
		g := graph[i]
		p := fmt.Sprintf("%s: %s[%d]", schemas.ManifestFile, at, i)
		switch {
		case d.Name != g.Name:
			return fmt.Errorf("%s.name: %q, but %s has %q", p, d.Name, model, g.Name)
		case d.DType != g.DType:
			return fmt.Errorf("%s.dtype: %s, but %s has %s", p, d.DType, model, g.DType)
		case len(d.Shape) != len(g.Shape):
			return fmt.Errorf("%s.shape: rank %d, but %s has rank %d", p, len(d.Shape), model, len(g.Shape))
		}
		for j, dd := range d.Shape {
			gd := g.Shape[j]
			if !gd.Symbolic() && !dd.Symbolic() && dd.Size != gd.Size {
				return fmt.Errorf("%s.shape[%d]: %s, but %s has %s", p, j, dd, model, gd)
			}
			if !gd.Symbolic() && dd.Symbolic() {
				return fmt.Errorf("%s.shape[%d]: %s, but %s fixes it to %s", p, j, dd, model, gd)
			}
		}
	}
	return nil
}

func guessRole(rel string, tok map[string]bool) string {
	base := path.Base(rel)
	lower := strings.ToLower(base)
	ext := path.Ext(lower)
	switch {
	case strings.HasPrefix(rel, "original/"):
		return schemas.RoleOriginal
	case tok[rel] || schemas.IsTokenizerFile(base):
		return schemas.RoleTokenizer
	case strings.HasPrefix(lower, "readme") || strings.HasPrefix(lower, "license") || strings.HasPrefix(lower, "notice") || ext == ".md" || ext == ".rst":
		return schemas.RoleDoc
	case ext == ".py" || ext == ".sh" || ext == ".ipynb":
		return schemas.RoleCode
	case ext == ".json" || ext == ".yaml" || ext == ".yml" || ext == ".txt" || ext == ".toml" || ext == ".cfg":
		return schemas.RoleConfig
	}
	return schemas.RoleWeights
}

func ingestAll(ctx context.Context, ing Ingester, entries []*entry, o options) error {
	return eachFile(ctx, entries, o.concurrency, func(ctx context.Context, e *entry, r io.Reader) error {
		if o.progress != nil {
			r = &countingReader{r: r, fn: func(n int64) { o.progress(e.rel, n) }}
		}
		w, err := ing.Writer(ctx, "")
		if err != nil {
			return err
		}
		defer w.Close()
		if _, err := io.CopyBuffer(w, r, make([]byte, 1<<20)); err != nil {
			return err
		}
		d, err := w.Commit(ctx, -1, "")
		if err != nil {
			return err
		}
		e.dgst, e.size = d, w.Offset()
		return nil
	})
}

func hashAll(ctx context.Context, entries []*entry, n int) error {
	return eachFile(ctx, entries, n, func(_ context.Context, e *entry, r io.Reader) error {
		h := sha256.New()
		size, err := io.Copy(h, r)
		if err != nil {
			return err
		}
		e.size, e.dgst = size, digest.NewDigest(digest.SHA256, h)
		return nil
	})
}

// eachFile runs fn on n entries' files at a time, each read through a reader
// that stops when ctx ends; the first error (naming its file) stops the rest.
func eachFile(ctx context.Context, entries []*entry, n int, fn func(context.Context, *entry, io.Reader) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(n)
	for _, e := range entries {
		g.Go(func() error {
			f, err := os.Open(e.abs)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := fn(ctx, e, fsutil.ContextReader(ctx, f)); err != nil {
				return fmt.Errorf("%s: %w", e.rel, err)
			}
			return nil
		})
	}
	return g.Wait()
}

type existser interface {
	Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error)
}

func pushBytes(ctx context.Context, dst content.Pusher, desc ocispec.Descriptor, b []byte) error {
	if ex, ok := dst.(existser); ok {
		if ok, err := ex.Exists(ctx, desc); err == nil && ok && desc.MediaType != ocispec.MediaTypeImageManifest {
			return nil
		}
	}
	err := dst.Push(ctx, desc, bytes.NewReader(b))
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

func pushFile(ctx context.Context, dst content.Pusher, desc ocispec.Descriptor, file string, progress func(string, int64), name string) error {
	if ex, ok := dst.(existser); ok {
		if ok, err := ex.Exists(ctx, desc); err == nil && ok {
			if progress != nil {
				progress(name, desc.Size)
			}
			return nil
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = fsutil.ContextReader(ctx, f)
	if progress != nil {
		r = &countingReader{r: r, fn: func(n int64) { progress(name, n) }}
	}
	// The store verifies size and digest while ingesting: a file changed since
	// hashing is refused, not stored under the wrong digest.
	err = dst.Push(ctx, desc, r)
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

type countingReader struct {
	r  io.Reader
	fn func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.fn(int64(n))
	}
	return n, err
}
