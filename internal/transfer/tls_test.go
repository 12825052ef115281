package transfer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --ca-file: a CA file that cannot be used fails the transfer's options. (That
// a private CA is trusted with its PEM and not without it is regclient's
// TestCAFile: the transports are built there, for axon and mlosd alike.)
func TestCAFile(t *testing.T) {
	if _, err := build([]Option{WithCAFile(filepath.Join(t.TempDir(), "none.pem"))}); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("a missing CA file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a cert"), 0o644)
	if _, err := build([]Option{WithCAFile(bad)}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file without certificates: %v", err)
	}
}
