package artifact

import (
	"encoding/json"
	"fmt"
)

// Docker Model Runner media types (docker/model-runner, distribution types).
// v0.1 names layers by media type only; v0.2 gives each file a layer with
// org.cncf.model.filepath.
const (
	MediaTypeDockerConfigV01    = "application/vnd.docker.ai.model.config.v0.1+json"
	MediaTypeDockerConfigV02    = "application/vnd.docker.ai.model.config.v0.2+json"
	MediaTypeDockerGGUF         = "application/vnd.docker.ai.gguf.v3"
	MediaTypeDockerSafetensors  = "application/vnd.docker.ai.safetensors"
	MediaTypeDockerLicense      = "application/vnd.docker.ai.license"
	MediaTypeDockerChatTemplate = "application/vnd.docker.ai.chat.template.jinja"
	MediaTypeDockerMMProj       = "application/vnd.docker.ai.mmproj"
	MediaTypeDockerModelFile    = "application/vnd.docker.ai.model.file"
)

// DockerModelConfig is the part of a Docker Model Runner config axon reads.
type DockerModelConfig struct {
	Config struct {
		Format       string `json:"format,omitempty"`
		Quantization string `json:"quantization,omitempty"`
		Parameters   string `json:"parameters,omitempty"`
		Architecture string `json:"architecture,omitempty"`
		Size         string `json:"size,omitempty"`
	} `json:"config"`
	Descriptor struct {
		Created string `json:"created,omitempty"`
	} `json:"descriptor"`
}

func (f *Foreign) readDockerConfig(cfg []byte) error {
	var c DockerModelConfig
	if err := json.Unmarshal(cfg, &c); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	f.ModelFormat, f.Quantization, f.ParamSize, f.Architecture = c.Config.Format, c.Config.Quantization, c.Config.Parameters, c.Config.Architecture
	return nil
}

// dockerDefaultName is the file name of a v0.1 layer, which names none.
func dockerDefaultName(mt string) string {
	switch mt {
	case MediaTypeDockerGGUF:
		return "model.gguf"
	case MediaTypeDockerSafetensors:
		return "model.safetensors"
	case MediaTypeDockerLicense:
		return "LICENSE"
	case MediaTypeDockerChatTemplate:
		return "template.jinja"
	case MediaTypeDockerMMProj:
		return "model.mmproj"
	}
	return ""
}
