// Package schemas defines the axon package format: the manifest.yaml types, its
// JSON Schema, validation, and every media type and annotation the format uses.
package schemas

import ocispec "github.com/opencontainers/image-spec/specs-go/v1"

// Artifact and config media types of an axon package (one OCI image manifest).
const (
	ArtifactType      = "application/vnd.axon.model.v1"
	MediaTypeManifest = "application/vnd.axon.model.manifest.v1+yaml"
)

// Layer media types, from the CNCF ModelPack spec so other model tools understand them.
const (
	MediaTypeWeight       = "application/vnd.cncf.model.weight.v1.raw"
	MediaTypeWeightConfig = "application/vnd.cncf.model.weight.config.v1.raw"
	MediaTypeDoc          = "application/vnd.cncf.model.doc.v1.raw"
	MediaTypeCode         = "application/vnd.cncf.model.code.v1.raw"
	// Tar variants hold a directory that must stay whole (reproducible tar).
	MediaTypeWeightTar       = "application/vnd.cncf.model.weight.v1.tar"
	MediaTypeWeightConfigTar = "application/vnd.cncf.model.weight.config.v1.tar"
	MediaTypeDocTar          = "application/vnd.cncf.model.doc.v1.tar"
	MediaTypeCodeTar         = "application/vnd.cncf.model.code.v1.tar"
)

// Docker image media types: what registries and clients still send beside
// the OCI ones (a Docker v2 manifest, a manifest list, an image config).
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerImageConfig  = "application/vnd.docker.container.image.v1+json"
)

// IsManifestMediaType reports whether mt is a manifest media type of the OCI
// image spec (image manifest, image index) or of Docker's schema 2 (manifest,
// manifest list): the ones a registry stores and a store resolves as manifests.
func IsManifestMediaType(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		MediaTypeDockerManifest, MediaTypeDockerManifestList:
		return true
	}
	return false
}

// Annotations.
const (
	AnnotationTitle       = "org.opencontainers.image.title"
	AnnotationVersion     = "org.opencontainers.image.version"
	AnnotationDescription = "org.opencontainers.image.description"
	AnnotationLicenses    = "org.opencontainers.image.licenses"
	AnnotationSource      = "org.opencontainers.image.source"
	AnnotationRevision    = "org.opencontainers.image.revision"
	AnnotationCreated     = "org.opencontainers.image.created"
	AnnotationFilepath    = "org.cncf.model.filepath"
)

// ManifestFile is the file name of the package manifest inside a model directory.
const ManifestFile = "manifest.yaml"
