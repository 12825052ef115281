package ort

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
)

func TestFindMissing(t *testing.T) {
	_, err := Find(filepath.Join(t.TempDir(), "nope.so"))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	t.Setenv(EnvLibrary, filepath.Join(t.TempDir(), "absent.so"))
	if _, err := Find(""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound for a bad %s, got %v", EnvLibrary, err)
	}
}

func TestInit(t *testing.T) {
	lib := testutil.ORTLibrary(t)
	if err := Init(filepath.Join(t.TempDir(), "missing.so")); err == nil {
		t.Fatal("Init with a missing library succeeded")
	}
	if err := Init(lib); err != nil {
		t.Fatal(err)
	}
	if err := Init(""); err != nil {
		t.Fatalf("second Init: %v", err)
	}
	if LibraryPath() != lib {
		t.Fatalf("LibraryPath = %q, want %q", LibraryPath(), lib)
	}
	if v := RuntimeVersion(); v != Version {
		t.Fatalf("RuntimeVersion = %q, want %q", v, Version)
	}
}
