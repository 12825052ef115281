package artifact

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/schemas"
)

// CNCF ModelPack media types (modelpack/model-spec, specs-go/v1), and the
// names the spec had as CNAI before it moved to the CNCF.
const (
	ArtifactTypeModelPack          = "application/vnd.cncf.model.manifest.v1+json"
	MediaTypeModelPackConfig       = "application/vnd.cncf.model.config.v1+json"
	ArtifactTypeModelPackLegacy    = "application/vnd.cnai.model.manifest.v1+json"
	MediaTypeModelPackConfigLegacy = "application/vnd.cnai.model.config.v1+json"
)

// ModelPackConfig is the ModelPack model config (application/vnd.cncf.model.config.v1+json).
type ModelPackConfig struct {
	Descriptor ModelPackDescriptor `json:"descriptor"`
	ModelFS    ModelPackFS         `json:"modelfs"`
	Config     ModelPackModel      `json:"config"`
}

// ModelPackDescriptor is the config's general information.
type ModelPackDescriptor struct {
	CreatedAt   *time.Time `json:"createdAt,omitempty"`
	Authors     []string   `json:"authors,omitempty"`
	Family      string     `json:"family,omitempty"`
	Name        string     `json:"name,omitempty"`
	DocURL      string     `json:"docURL,omitempty"`
	SourceURL   string     `json:"sourceURL,omitempty"`
	Version     string     `json:"version,omitempty"`
	Revision    string     `json:"revision,omitempty"`
	Vendor      string     `json:"vendor,omitempty"`
	Licenses    []string   `json:"licenses,omitempty"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
}

// ModelPackFS lists the uncompressed layer digests.
type ModelPackFS struct {
	Type    string          `json:"type"`
	DiffIDs []digest.Digest `json:"diffIds"`
}

// ModelPackModel is the config's technical part.
type ModelPackModel struct {
	Architecture string          `json:"architecture,omitempty"`
	Format       string          `json:"format,omitempty"`
	ParamSize    string          `json:"paramSize,omitempty"`
	Precision    string          `json:"precision,omitempty"`
	Quantization string          `json:"quantization,omitempty"`
	Capabilities json.RawMessage `json:"capabilities,omitempty"`
}

func (f *Foreign) readModelPackConfig(cfg []byte) error {
	var c ModelPackConfig
	if err := json.Unmarshal(cfg, &c); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	d := c.Descriptor
	f.Name, f.Version, f.Description = d.Name, d.Version, d.Description
	if f.Name == "" {
		f.Name = d.Title
	}
	if len(d.Licenses) > 0 {
		f.License = d.Licenses[0]
	}
	m := c.Config
	f.diffIDs = c.ModelFS.DiffIDs
	f.Architecture, f.ModelFormat, f.ParamSize, f.Precision, f.Quantization, f.Capabilities = m.Architecture, m.Format, m.ParamSize, m.Precision, m.Quantization, m.Capabilities
	return nil
}

// modelPackConfig writes the ModelPack config of an axon package whose layers
// have the digests diffIDs (axon layers are uncompressed: digest = DiffID).
func modelPackConfig(m *schemas.Manifest, created time.Time, diffIDs []digest.Digest) ([]byte, error) {
	c := ModelPackConfig{
		Descriptor: ModelPackDescriptor{
			CreatedAt:   &created,
			Name:        m.Namespace + "/" + m.Name,
			Version:     m.Version,
			Description: m.Description,
		},
		ModelFS: ModelPackFS{Type: "layers", DiffIDs: diffIDs},
		Config:  ModelPackModel{Format: m.Format.Name, ParamSize: ParamSize(m.Resources.Parameters)},
	}
	lic := m.License
	if lic == "" && m.Source != nil {
		lic = m.Source.License
	}
	if lic != "" {
		c.Descriptor.Licenses = []string{lic}
	}
	if m.Source != nil {
		c.Descriptor.SourceURL, c.Descriptor.Revision = m.Source.URL, m.Source.Revision
	}
	if prec := precisionOf(m); prec != "" {
		c.Config.Precision = prec
	}
	if in, out := modalities(m.Task); in != "" {
		c.Config.Capabilities, _ = json.Marshal(map[string][]string{"inputTypes": {in}, "outputTypes": {out}})
	}
	return json.Marshal(c)
}

// modalities are a task's ModelPack input and output types.
func modalities(task string) (in, out string) {
	switch {
	case task == "feature-extraction" || task == "sentence-similarity":
		return "text", "embedding"
	case strings.HasPrefix(task, "image-") || task == "object-detection":
		return "image", "text"
	case strings.HasPrefix(task, "audio-") || task == "automatic-speech-recognition":
		return "audio", "text"
	case strings.HasPrefix(task, "text") || task == "fill-mask" || task == "token-classification" || task == "question-answering" || task == "summarization" || task == "translation":
		return "text", "text"
	}
	return "", ""
}

// ParamSize writes a parameter count the ModelPack way: a decimal count with
// at most one digit after the point and a scale letter (6.7B, 110M, 3K).
func ParamSize(n int64) string {
	if n <= 0 {
		return ""
	}
	for _, s := range []struct {
		div    float64
		letter string
	}{{1e15, "Q"}, {1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}} {
		if float64(n) >= s.div {
			return strconv.FormatFloat(float64(int64(float64(n)/s.div*10+0.5))/10, 'f', -1, 64) + s.letter
		}
	}
	return strconv.FormatInt(n, 10)
}

// precisionOf names the floating-point type of the model's outputs (fp32,
// fp16, bf16), the closest the I/O schema comes to the weights' precision.
func precisionOf(m *schemas.Manifest) string {
	for _, t := range m.IO.Outputs {
		switch t.DType {
		case "float32":
			return "fp32"
		case "float16":
			return "fp16"
		case "bfloat16":
			return "bf16"
		}
	}
	return ""
}

// modelPackLayout turns an axon package's layers into a ModelPack artifact's:
// manifest.yaml (desc) joins them as a weight.config layer, so what axon
// knows (the I/O schema above all) travels along, and the ModelPack config
// lists every layer's DiffID.
func modelPackLayout(m *schemas.Manifest, cfg []byte, desc ocispec.Descriptor, created time.Time, layers *[]ocispec.Descriptor) ([]byte, error) {
	*layers = append(*layers, ocispec.Descriptor{
		MediaType: schemas.MediaTypeWeightConfig,
		Digest:    desc.Digest,
		Size:      desc.Size,
		Annotations: map[string]string{
			schemas.AnnotationTitle:    schemas.ManifestFile,
			schemas.AnnotationFilepath: schemas.ManifestFile,
		},
	})
	diffIDs := make([]digest.Digest, len(*layers))
	for i, l := range *layers {
		diffIDs[i] = l.Digest // uncompressed layers: the digest is the DiffID
	}
	return modelPackConfig(m, created, diffIDs)
}
