// Package schemas defines the axon package format: the manifest.yaml types, its
// JSON Schema, validation, and every media type and annotation the format uses.
package schemas

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
