package artifact

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/schemas"
)

// CheckLayerPaths is the one check of a package's layer paths, applied by
// every reader and writer of packages (pack, pull, export, mlosd's unpack):
// each layer names a clean relative path (schemas.CheckPath: no backslash,
// "..", absolute, empty or "." part) and no two layers claim the same path or
// a path inside another's. A package that breaks this would be served with
// whichever layer was written last.
func CheckLayerPaths(layers []ocispec.Descriptor) error {
	return checkLayerPaths(layers, nil)
}

// checkLayerPaths is CheckLayerPaths of some of a manifest's layers; index[i]
// is the manifest's number of layers[i] (nil: the same), so that errors name
// the layer a user finds in the manifest.
func checkLayerPaths(layers []ocispec.Descriptor, index []int) error {
	num := func(i int) int {
		if index == nil {
			return i
		}
		return index[i]
	}
	seen := make(map[string]int, len(layers))
	for i, l := range layers {
		p := LayerPath(l)
		if err := schemas.CheckPath(p); err != nil {
			return fmt.Errorf("layer %d has a bad file path: %w", num(i), err)
		}
		if j, dup := seen[p]; dup {
			return fmt.Errorf("layers %d and %d both have the path %q", num(j), num(i), p)
		}
		seen[p] = i
	}
	// A file "a" and a file "a/b" cannot both exist on disk.
	for p, i := range seen {
		for dir := p; ; {
			k := strings.LastIndexByte(dir, '/')
			if k < 0 {
				break
			}
			dir = dir[:k]
			if j, ok := seen[dir]; ok {
				kind := "file"
				if IsTarMediaType(layers[j].MediaType) {
					kind = "directory"
				}
				return fmt.Errorf("layer %d has the path %q inside layer %d's %s %q", num(i), p, num(j), kind, dir)
			}
		}
	}
	return nil
}

// checkForeignPaths applies the package path rules to a foreign artifact's
// files, with what differs for other tools' layouts kept here:
//   - a raw layer is a file at its path, held to CheckLayerPaths like an axon
//     package's layers (after the leniency of layerFile: "./x" is x);
//   - an archive layer (tar, tar+gzip, tar+zstd) is not a directory at its
//     path, as axon's tar layers are: its entries are paths from the model
//     root (modctl, kit), so its annotation is only a label. Each entry is
//     held to schemas.CheckPath and to files-and-directories-only by Untar
//     when unpacked, and mergeInto refuses a file where another layer put a
//     directory or a symlink in the way.
func checkForeignPaths(files []File) error {
	var raw []ocispec.Descriptor
	var index []int
	for i, x := range files {
		if x.Archive != ArchiveNone {
			continue
		}
		raw = append(raw, ocispec.Descriptor{MediaType: x.MediaType, Annotations: map[string]string{schemas.AnnotationFilepath: x.Path}})
		index = append(index, i)
	}
	return checkLayerPaths(raw, index)
}

// CheckFileDigests checks manifest.yaml's file list against the layers: a
// listed file must be the layer at its path, with that layer's digest and
// size. Whole-directory (tar) layers are listed by path only.
func CheckFileDigests(layers []ocispec.Descriptor, m *schemas.Manifest) error {
	if m == nil {
		return nil
	}
	byPath := make(map[string]ocispec.Descriptor, len(layers))
	for _, l := range layers {
		byPath[LayerPath(l)] = l
	}
	for i, f := range m.Files {
		l, ok := byPath[f.Path]
		if !ok {
			return fmt.Errorf("%s lists %s (files[%d]) but the package has no layer with that path", schemas.ManifestFile, f.Path, i)
		}
		if IsTarMediaType(l.MediaType) {
			continue
		}
		if f.Digest != "" && f.Digest != l.Digest.String() {
			return fmt.Errorf("%s says %s is %s, but its layer is %s", schemas.ManifestFile, f.Path, f.Digest, l.Digest)
		}
		if f.Size > 0 && f.Size != l.Size {
			return fmt.Errorf("%s says %s has %d bytes, but its layer has %d", schemas.ManifestFile, f.Path, f.Size, l.Size)
		}
	}
	return nil
}
