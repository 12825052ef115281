package artifact

import (
	"encoding/json"
	"fmt"
	"strings"
)

// KitOps ModelKit media types (kitops pkg/artifact, constants): the Kitfile,
// as JSON, is the config; layers are tars of paths from the kit's context.
const (
	ArtifactTypeKit    = "application/vnd.kitops.modelkit.manifest.v1+json"
	MediaTypeKitConfig = "application/vnd.kitops.modelkit.config.v1+json"
	kitLayerPrefix     = "application/vnd.kitops.modelkit."
)

// Kitfile is the part of a KitOps Kitfile axon reads.
type Kitfile struct {
	ManifestVersion string `json:"manifestVersion"`
	Package         struct {
		Name        string   `json:"name,omitempty"`
		Version     string   `json:"version,omitempty"`
		Description string   `json:"description,omitempty"`
		License     string   `json:"license,omitempty"`
		Authors     []string `json:"authors,omitempty"`
	} `json:"package"`
	Model *struct {
		Name      string `json:"name,omitempty"`
		Path      string `json:"path,omitempty"`
		Framework string `json:"framework,omitempty"`
		Version   string `json:"version,omitempty"`
		License   string `json:"license,omitempty"`
		Parts     []struct {
			Name string `json:"name,omitempty"`
			Path string `json:"path,omitempty"`
			Type string `json:"type,omitempty"`
		} `json:"parts,omitempty"`
	} `json:"model,omitempty"`
	Code     []kitPath `json:"code,omitempty"`
	Datasets []kitPath `json:"datasets,omitempty"`
	Docs     []kitPath `json:"docs,omitempty"`
	Prompts  []kitPath `json:"prompts,omitempty"`
}

type kitPath struct {
	Path string `json:"path,omitempty"`
}

func (f *Foreign) readKitfile(cfg []byte) error {
	var k Kitfile
	if err := json.Unmarshal(cfg, &k); err != nil {
		return fmt.Errorf("not a Kitfile in JSON: %w", err)
	}
	if k.ManifestVersion == "" {
		return fmt.Errorf("not a Kitfile: no manifestVersion")
	}
	f.Name, f.Version, f.Description, f.License = k.Package.Name, k.Package.Version, k.Package.Description, k.Package.License
	// kit writes the layers of each kind in the Kitfile's order: that names
	// the layers that carry no path annotation.
	f.kitPaths = map[string][]string{}
	add := func(kind string, ps []kitPath) {
		for _, p := range ps {
			f.kitPaths[kind] = append(f.kitPaths[kind], p.Path)
		}
	}
	add("code", k.Code)
	add("dataset", k.Datasets)
	add("docs", k.Docs)
	add("prompts", k.Prompts)
	if k.Model != nil {
		if f.Name == "" {
			f.Name = k.Model.Name
		}
		if f.Version == "" {
			f.Version = k.Model.Version
		}
		if f.License == "" {
			f.License = k.Model.License
		}
		f.kitPaths["model"] = []string{k.Model.Path}
		for _, p := range k.Model.Parts {
			f.kitPaths["modelpart"] = append(f.kitPaths["modelpart"], p.Path)
		}
		f.ModelFormat = strings.ToLower(k.Model.Framework)
		if strings.HasSuffix(strings.ToLower(k.Model.Path), ".onnx") {
			f.ModelFormat = "onnx"
		}
	}
	return nil
}
