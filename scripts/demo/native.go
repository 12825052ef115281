package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/mlos-foundation/axon/adapters/hubtest"
)

// native installs a safetensors-only transformers checkpoint (config.json +
// model.safetensors, generated here: a tiny random-weight BERT classifier) with
// the native converter, which needs neither Python nor Docker, then serves it.
func (d *demo) native(ctx context.Context, home, regAddr, mlosAddr string) error {
	dir := filepath.Join(home, "tiny-bert-safetensors")
	if err := d.step("write a safetensors-only BERT checkpoint to "+dir, func() (string, error) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		var names string
		for _, f := range hubtest.SafetensorsRepo("examples/tiny-bert-safetensors", "bert:seq").Files {
			if err := os.WriteFile(filepath.Join(dir, f.Path), f.Data, 0o644); err != nil {
				return "", err
			}
			names += f.Path + " "
		}
		return names, nil
	}); err != nil {
		return err
	}
	const ref = "examples/tiny-bert-native@latest"
	if err := d.step("axon install "+dir+" --name examples/tiny-bert-native --converter native", func() (string, error) {
		return d.axon(ctx, "install", dir, "--name", "examples/tiny-bert-native", "--converter", "native")
	}); err != nil {
		return err
	}
	if err := d.step("axon push "+ref+" && axon register "+ref, func() (string, error) {
		out, err := d.axon(ctx, "push", ref, regAddr+"/examples/tiny-bert-native:latest")
		if err != nil {
			return out, err
		}
		reg, err := d.axon(ctx, "register", ref)
		return out + reg, err
	}); err != nil {
		return err
	}
	url := "http://" + mlosAddr + "/models/examples/tiny-bert-native/inference"
	body := `{"input":"Converted in Go, served by mlosd."}`
	return d.step("curl -X POST "+url+" -d '"+body+"'", func() (string, error) {
		return post(ctx, url, body)
	})
}
