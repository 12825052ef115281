package axon_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon"
)

// What the examples do not show: bad input is refused with the flag's
// words, and the reference rules the verbs share.
func TestBadInputAndReferences(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	opts := []axon.Option{axon.WithHome(home)}
	if _, err := axon.Pack(ctx, example, append(opts, axon.WithName("Bad Name"))...); err == nil || !strings.Contains(err.Error(), "NAMESPACE/NAME") {
		t.Errorf("Pack with a bad name: %v", err)
	}
	if _, err := axon.Pack(ctx, example, append(opts, axon.WithName("a/b"), axon.WithVersion("../x"))...); err == nil || !strings.Contains(err.Error(), "--version") {
		t.Errorf("Pack with a bad version: %v", err)
	}
	if _, err := axon.Install(ctx, "./"+example, append(opts, axon.WithConverter("gpu"))...); err == nil || !strings.Contains(err.Error(), "auto, native, local or docker") {
		t.Errorf("Install with an unknown converter: %v", err)
	}
	if _, err := axon.Inspect(ctx, "hf/absent@1", opts...); !errors.Is(err, axon.ErrNotFound) {
		t.Errorf("Inspect of a package not stored: %v", err)
	}
	if entries, err := axon.List(ctx, "hf/absent", opts...); err != nil || len(entries) != 0 {
		t.Errorf("List of a repository not stored: %v %v", entries, err)
	}
	// A registry reference passes to mlosd as it is; a name the store lacks
	// that is no registry reference says both.
	if ref, err := axon.RegistrationRef(ctx, "localhost:5000/a/b:1", opts...); err != nil || ref != "localhost:5000/a/b:1" {
		t.Errorf("RegistrationRef of a registry reference: %q %v", ref, err)
	}
	if _, err := axon.RegistrationRef(ctx, "hf/absent@1", opts...); !errors.Is(err, axon.ErrNotFound) || !strings.Contains(err.Error(), "nor is it a registry reference") {
		t.Errorf("RegistrationRef of an unknown name: %v", err)
	}
	if ref, err := axon.RegistrationRef(ctx, "oci-layout:///srv/models@sha256:"+strings.Repeat("a", 64), opts...); err != nil || !strings.HasPrefix(ref, axon.LayoutScheme) {
		t.Errorf("RegistrationRef of a layout reference: %q %v", ref, err)
	}
	// Signing a package that never left the store: signatures live in a registry.
	pkg, err := axon.Pack(ctx, example, append(opts, axon.WithName("a/b"))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := axon.Sign(ctx, pkg.Ref, nil, opts...); err == nil || !strings.Contains(err.Error(), "axon push it first") {
		t.Errorf("Sign of a package never pushed: %v", err)
	}
	if !axon.IsRemote("localhost:5000/a/b") || axon.IsRemote(pkg.Ref) {
		t.Error("IsRemote")
	}
}
