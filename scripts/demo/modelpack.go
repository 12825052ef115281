package main

import (
	"context"
	"fmt"
	"strings"
)

// modelPack pushes the demo package as a CNCF ModelPack artifact (what
// modctl, KitOps and Docker Model Runner read) and reads it back.
func (d *demo) modelPack(ctx context.Context, ref, regAddr string) error {
	target := regAddr + "/examples/tiny-sentiment:modelpack"
	if err := d.step("axon push --format modelpack "+ref+" "+target, func() (string, error) {
		return d.axon(ctx, "push", "--format", "modelpack", ref, target)
	}); err != nil {
		return err
	}
	if err := d.step("axon inspect "+target+" (format, files, manifest.yaml inside)", func() (string, error) {
		out, err := d.axon(ctx, "inspect", target)
		if err != nil {
			return out, err
		}
		if !strings.Contains(out, "format: ModelPack") {
			return out, fmt.Errorf("inspect does not see a ModelPack artifact")
		}
		// The head is enough: name, format, files.
		if i := strings.Index(out, "# --- manifest.yaml"); i > 0 {
			out = out[:i]
		}
		return out, nil
	}); err != nil {
		return err
	}
	return d.step("axon pull "+target, func() (string, error) {
		return d.axon(ctx, "pull", target)
	})
}
