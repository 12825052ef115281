package artifact

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/mlos-foundation/axon/schemas"
)

// Formats of model artifacts axon reads. FormatAxon is its own package
// format; the others are other tools' OCI layouts for models.
const (
	FormatAxon      = "axon"
	FormatModelPack = "modelpack"    // CNCF ModelPack (modctl, KitOps ≥ 1.10, RamaLama)
	FormatModelKit  = "modelkit"     // KitOps ModelKit (Kitfile config)
	FormatDocker    = "docker-model" // Docker Model Runner (model-distribution)
)

// maxForeignConfig bounds a foreign config blob read into memory.
const maxForeignConfig = 4 << 20

// Layer archive kinds, from the media type's suffix.
const (
	ArchiveNone    = ""         // the blob is the file
	ArchiveTar     = "tar"      // a tar whose entries are paths from the model root
	ArchiveTarGzip = "tar+gzip" // the same, gzip-compressed
	ArchiveTarZstd = "tar+zstd" // the same, zstd-compressed
)

// File is one file (or archived directory) of a model artifact.
type File struct {
	Path      string `json:"path"`
	Kind      string `json:"kind"` // weight, weight.config, doc, code, dataset, model, ...
	Archive   string `json:"archive,omitempty"`
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
	// DiffID is the digest of the layer uncompressed, when the artifact's
	// config lists it (ModelPack modelfs.diffIds) and it differs from Digest.
	DiffID string             `json:"diffId,omitempty"`
	Layer  ocispec.Descriptor `json:"-"`
}

// Foreign is what a model artifact of another tool says about itself.
type Foreign struct {
	Format       string              `json:"format"`
	Name         string              `json:"name,omitempty"`
	Version      string              `json:"version,omitempty"`
	Description  string              `json:"description,omitempty"`
	License      string              `json:"license,omitempty"`
	Architecture string              `json:"architecture,omitempty"`
	ModelFormat  string              `json:"modelFormat,omitempty"` // onnx, safetensors, gguf...
	ParamSize    string              `json:"paramSize,omitempty"`
	Precision    string              `json:"precision,omitempty"`
	Quantization string              `json:"quantization,omitempty"`
	Capabilities json.RawMessage     `json:"capabilities,omitempty"`
	Files        []File              `json:"files"`
	kitPaths     map[string][]string // ModelKit: paths of each layer kind, in order
	diffIDs      []digest.Digest     // ModelPack: modelfs.diffIds

	// EmbeddedManifest is true when the artifact carries an axon manifest.yaml
	// as a layer (axon pack --format modelpack).
	EmbeddedManifest bool `json:"embeddedManifest,omitempty"`
}

// HasONNX reports whether the artifact holds an ONNX model mlosd can serve:
// a .onnx file, an axon manifest.yaml, or a config saying onnx.
func (f *Foreign) HasONNX() bool {
	if f.EmbeddedManifest || strings.EqualFold(f.ModelFormat, "onnx") {
		return true
	}
	for _, x := range f.Files {
		if strings.HasSuffix(strings.ToLower(x.Path), ".onnx") {
			return true
		}
	}
	return false
}

// Summary says in a few words what the artifact holds: its format and files.
func (f *Foreign) Summary() string {
	var names []string
	for _, x := range f.Files {
		names = append(names, x.Path)
	}
	what := f.ModelFormat
	if what == "" {
		what = "model"
	}
	return fmt.Sprintf("a %s artifact holding %s weights (%s)", FormatTitle(f.Format), what, strings.Join(names, ", "))
}

// FormatTitle is a format's name as users know it.
func FormatTitle(format string) string {
	switch format {
	case FormatModelPack:
		return "ModelPack"
	case FormatModelKit:
		return "KitOps ModelKit"
	case FormatDocker:
		return "Docker Model Runner"
	}
	return "axon package"
}

// Identify says which model format an OCI image manifest is in; ""
// (with a nil error) when it is none axon knows.
func Identify(m *ocispec.Manifest) string {
	cfg := m.Config.MediaType
	switch {
	case cfg == schemas.MediaTypeManifest:
		return FormatAxon
	case cfg == MediaTypeModelPackConfig || cfg == MediaTypeModelPackConfigLegacy ||
		m.ArtifactType == ArtifactTypeModelPack || m.ArtifactType == ArtifactTypeModelPackLegacy:
		return FormatModelPack
	case cfg == MediaTypeKitConfig || strings.HasPrefix(m.ArtifactType, "application/vnd.kitops.modelkit."):
		return FormatModelKit
	case cfg == MediaTypeDockerConfigV01 || cfg == MediaTypeDockerConfigV02:
		return FormatDocker
	}
	for _, l := range m.Layers {
		if strings.HasPrefix(l.MediaType, kitLayerPrefix) {
			return FormatModelKit
		}
	}
	return ""
}

// readForeign reads the artifact of a format other than axon's: its config
// (bounded) and its layers as files. pkg.Manifest is an axon manifest made
// from what the artifact says, or the manifest.yaml it carries.
func readForeign(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor, raw []byte, m *ocispec.Manifest, format string) (*Package, error) {
	if m.Config.Size > maxForeignConfig {
		return nil, fmt.Errorf("%s config is %d bytes, more than the %d allowed", FormatTitle(format), m.Config.Size, maxForeignConfig)
	}
	cfg, err := content.FetchAll(ctx, src, m.Config)
	if err != nil {
		return nil, fmt.Errorf("read %s config: %w", FormatTitle(format), err)
	}
	f, err := DescribeForeign(format, m, cfg)
	if err != nil {
		return nil, err
	}
	pkg := &Package{Descriptor: desc, OCI: m, RawOCI: raw, RawConfig: cfg, Format: format, Foreign: f}
	if f.EmbeddedManifest {
		for _, x := range f.Files {
			if x.Path == schemas.ManifestFile && x.Archive == ArchiveNone && x.Size <= maxForeignConfig {
				b, err := content.FetchAll(ctx, src, x.Layer)
				if err != nil {
					return nil, fmt.Errorf("read %s: %w", schemas.ManifestFile, err)
				}
				if pkg.Manifest, err = schemas.Parse(b); err != nil {
					return nil, fmt.Errorf("%s inside the %s artifact: %w", schemas.ManifestFile, FormatTitle(format), err)
				}
				pkg.EmbeddedManifest = b
			}
		}
	}
	if pkg.Manifest == nil {
		pkg.Manifest = f.AxonManifest(m)
	}
	return pkg, nil
}

// DescribeForeign reads a foreign artifact's config and layers. Every layer
// path is checked to stay inside the model directory.
func DescribeForeign(format string, m *ocispec.Manifest, cfg []byte) (*Foreign, error) {
	f := &Foreign{Format: format}
	var err error
	switch format {
	case FormatModelPack:
		err = f.readModelPackConfig(cfg)
	case FormatModelKit:
		err = f.readKitfile(cfg)
	case FormatDocker:
		err = f.readDockerConfig(cfg)
	default:
		return nil, fmt.Errorf("unknown model format %q", format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s config: %w", FormatTitle(format), err)
	}
	if f.Name == "" {
		f.Name = m.Annotations[schemas.AnnotationTitle]
	}
	if f.Version == "" {
		f.Version = m.Annotations[schemas.AnnotationVersion]
	}
	if f.Description == "" {
		f.Description = m.Annotations[schemas.AnnotationDescription]
	}
	if f.License == "" {
		f.License = m.Annotations[schemas.AnnotationLicenses]
	}
	used := map[string]int{}
	kitSeen := map[string]int{}
	for i, l := range m.Layers {
		if format == FormatModelKit && l.Annotations[schemas.AnnotationFilepath] == "" && l.Annotations[schemas.AnnotationTitle] == "" {
			kind, _ := layerKind(l.MediaType)
			if ps := f.kitPaths[kind]; kitSeen[kind] < len(ps) {
				l.Annotations = map[string]string{schemas.AnnotationFilepath: ps[kitSeen[kind]]}
			}
			kitSeen[kind]++
		}
		x, err := layerFile(format, l, used)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, l.Digest, err)
		}
		if x.Path == schemas.ManifestFile && x.Archive == ArchiveNone {
			f.EmbeddedManifest = true
		}
		f.Files = append(f.Files, x)
	}
	if err := checkForeignPaths(f.Files); err != nil {
		return nil, err
	}
	if err := f.checkDiffIDs(); err != nil {
		return nil, err
	}
	if f.ModelFormat == "" {
		f.ModelFormat = guessModelFormat(f.Files)
	}
	return f, nil
}

// layerFile names a layer's file: org.cncf.model.filepath, else the OCI
// title, else (Docker's v0.1 layers name none) a name from the media type.
func layerFile(format string, l ocispec.Descriptor, used map[string]int) (File, error) {
	x := File{MediaType: l.MediaType, Digest: l.Digest.String(), Size: l.Size, Layer: l}
	x.Kind, x.Archive = layerKind(l.MediaType)
	p := l.Annotations[schemas.AnnotationFilepath]
	if p == "" {
		p = l.Annotations[schemas.AnnotationTitle]
		if x.Archive != ArchiveNone {
			// A title names the archive ("weights.tar"), not what is in it.
			p = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(p, ".gz"), ".zst"), ".tar")
		}
	}
	defaulted := false
	if p == "" && format == FormatDocker {
		p, defaulted = dockerDefaultName(l.MediaType), true
	}
	if p == "" && x.Archive != ArchiveNone {
		p = x.Kind // an archive's entries carry their own paths
	}
	if p == "" {
		return x, fmt.Errorf("the layer names no file (no %s or %s annotation)", schemas.AnnotationFilepath, schemas.AnnotationTitle)
	}
	if x.Archive == ArchiveNone {
		// Other tools write "./model.onnx" for model.onnx; what the path
		// may be is checked for all files at once (checkForeignPaths).
		p = strings.TrimPrefix(p, "./")
	} else if p = path.Clean(strings.TrimPrefix(p, "./")); schemas.CheckPath(p) != nil {
		// An archive's name is a label (its entries carry their own paths,
		// checked when unpacked): a Kitfile path such as "." names the whole
		// context.
		p = x.Kind
	}
	if n := used[p]; n > 0 && x.Archive == ArchiveNone && defaulted {
		// Docker v0.1 names no files: a sharded GGUF is model.gguf, model-2.gguf...
		ext := path.Ext(p)
		p = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(p, ext), n+1, ext)
	}
	used[p]++
	x.Path = p
	return x, nil
}

// layerKind splits a media type into what the layer is and how it is archived.
func layerKind(mt string) (kind, archive string) {
	for _, prefix := range []string{"application/vnd.cncf.model.", "application/vnd.cnai.model.", kitLayerPrefix} {
		rest, ok := strings.CutPrefix(mt, prefix)
		if !ok {
			continue
		}
		// weight.config.v1.tar+gzip → kind weight.config, suffix tar+gzip
		i := strings.Index(rest, ".v1")
		if i < 0 {
			return rest, ArchiveNone
		}
		kind, suffix := rest[:i], strings.TrimPrefix(rest[i+3:], ".")
		switch suffix {
		case "tar", "tar+gzip", "tar+zstd":
			return kind, suffix
		case "tar+gz", "tar.gz", "tgz":
			return kind, ArchiveTarGzip
		}
		if strings.HasPrefix(suffix, "tar") {
			// KitOps wrote "+tar" once; anything tar-like is a tar.
			return kind, ArchiveTar
		}
		return kind, ArchiveNone // raw, or a file format (weight.v1.gguf)
	}
	if rest, ok := strings.CutPrefix(mt, "application/vnd.docker.ai."); ok {
		if strings.HasSuffix(rest, ".tar") {
			return rest, ArchiveTar
		}
		return rest, ArchiveNone
	}
	switch {
	case strings.HasSuffix(mt, ".tar+gzip") || strings.HasSuffix(mt, ".tar.gzip"):
		return "file", ArchiveTarGzip
	case strings.HasSuffix(mt, ".tar+zstd"):
		return "file", ArchiveTarZstd
	case strings.HasSuffix(mt, ".tar"):
		return "file", ArchiveTar
	}
	return "file", ArchiveNone
}

func guessModelFormat(files []File) string {
	seen := map[string]bool{}
	for _, f := range files {
		switch ext := strings.ToLower(path.Ext(f.Path)); ext {
		case ".onnx":
			return "onnx"
		case ".safetensors", ".gguf", ".bin", ".pt", ".pth", ".pb", ".tflite":
			seen[strings.TrimPrefix(ext, ".")] = true
		}
		switch f.Kind {
		case "gguf.v3":
			seen["gguf"] = true
		case "safetensors":
			seen["safetensors"] = true
		}
	}
	for _, f := range []string{"safetensors", "gguf", "pt", "pth", "bin", "pb", "tflite"} {
		if seen[f] {
			return f
		}
	}
	return ""
}

// AxonManifest is an axon manifest.yaml made from what a foreign artifact says:
// name, version, format, files with roles and digests. It carries no I/O
// schema; mlosd reads that from the ONNX graph when it loads the model.
func (f *Foreign) AxonManifest(m *ocispec.Manifest) *schemas.Manifest {
	ns, name := SplitName(f.Name)
	pm := &schemas.Manifest{
		APIVersion:  schemas.APIVersion,
		Kind:        schemas.Kind,
		Namespace:   ns,
		Name:        name,
		Version:     f.Version,
		Description: f.Description,
		License:     f.License,
		Framework:   schemas.Framework{Name: f.ModelFormat},
		Format:      schemas.Format{Name: f.ModelFormat},
		IO:          schemas.IO{Inputs: []schemas.Tensor{}, Outputs: []schemas.Tensor{}},
	}
	if pm.Version == "" {
		pm.Version = "latest"
	}
	if src := m.Annotations[schemas.AnnotationSource]; src != "" {
		pm.Source = &schemas.Source{Hub: f.Format, ID: f.Name, URL: src, Revision: m.Annotations[schemas.AnnotationRevision]}
	}
	for _, x := range f.Files {
		role := guessRole(x.Path, nil)
		if strings.HasSuffix(strings.ToLower(x.Path), ".onnx") && pm.Format.Model == "" {
			role = schemas.RoleModel
			if x.Path != "model.onnx" {
				pm.Format.Model = x.Path
			}
		}
		pm.Files = append(pm.Files, schemas.File{Path: x.Path, Role: role, Digest: x.Digest, Size: x.Size})
		pm.Resources.Bytes += x.Size
	}
	return pm
}

// SplitName turns a foreign model's name into an axon NAMESPACE and NAME: the
// last two path segments, lower-cased; "oci" when it names no namespace.
func SplitName(s string) (ns, name string) {
	s = strings.ToLower(strings.TrimSpace(s))
	clean := func(p string) string {
		var b strings.Builder
		for _, r := range p {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
				b.WriteRune(r)
			default:
				b.WriteRune('-')
			}
		}
		return strings.Trim(b.String(), "-._")
	}
	parts := strings.Split(s, "/")
	name = clean(parts[len(parts)-1])
	if len(parts) > 1 {
		ns = clean(parts[len(parts)-2])
	}
	if name == "" {
		name = "model"
	}
	if ns == "" {
		ns = "oci"
	}
	return ns, name
}
