// Command gendoc writes the manifest.yaml reference for the docs:
// DIR/manifest.schema.json (the JSON Schema, as embedded) and
// DIR/manifest-reference.md (a field table generated from it).
//
//	go run ./schemas/gendoc docs/reference
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlos-foundation/axon/schemas"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendoc DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	md, err := schemas.Markdown()
	if err != nil {
		return err
	}
	doc := "# manifest.yaml reference (apiVersion " + schemas.APIVersion + ")\n\n" +
		"Generated from [manifest.schema.json](manifest.schema.json) by `go run ./schemas/gendoc`; do not edit.\n\n" +
		"A package is one OCI image manifest: artifactType `" + schemas.ArtifactType + "`, config manifest.yaml (`" +
		schemas.MediaTypeManifest + "`), one layer per file.\n\n" + md
	if err := os.WriteFile(filepath.Join(dir, "manifest-reference.md"), []byte(doc), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.schema.json"), schemas.SchemaJSON, 0o644)
}
