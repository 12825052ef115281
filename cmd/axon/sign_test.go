package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
)

// axon keygen, sign and verify against CNCF Distribution (which has no
// cosign of its own): a pushed package is signed by its local name, verifies
// with its key and not with another, and an unpushed one is refused with
// what to do.
func TestSignVerifyVerbs(t *testing.T) {
	home := t.TempDir()
	t.Setenv("COSIGN_PASSWORD", "pw")
	keys := t.TempDir()
	ok(t, axonCLI(t, home, "", "keygen", "--output-key-prefix", filepath.Join(keys, "a")))
	ok(t, axonCLI(t, home, "", "keygen", "--output-key-prefix", filepath.Join(keys, "b")))
	if r := axonCLI(t, home, "", "keygen", "--output-key-prefix", filepath.Join(keys, "a")); r.code == 0 || !strings.Contains(r.err, "--force") {
		t.Fatalf("keygen over an existing key: %+v", r)
	}
	if fi, err := os.Stat(filepath.Join(keys, "a.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode: %v %v", fi, err)
	}
	ok(t, axonCLI(t, home, "", "pack", model(t), "--name", "local/mlp", "--version", "0.1"))
	if r := axonCLI(t, home, "", "sign", "local/mlp@0.1", "--key", filepath.Join(keys, "a.key")); r.code == 0 || !strings.Contains(r.err, "axon push it first") {
		t.Fatalf("sign of an unpushed package: %+v", r)
	}
	reg := testutil.StartDistribution(t)
	ok(t, axonCLI(t, home, "", "push", "local/mlp@0.1", reg))
	r := ok(t, axonCLI(t, home, "", "sign", "local/mlp@0.1", "--key", filepath.Join(keys, "a.key")))
	if !strings.HasPrefix(r.out, reg+"/local/mlp@sha256:") || !strings.Contains(r.err, ".sig)") {
		t.Fatalf("sign printed %+v", r)
	}
	r = ok(t, axonCLI(t, home, "", "verify", reg+"/local/mlp:0.1", "--key", filepath.Join(keys, "b.pub"), "--key", filepath.Join(keys, "a.pub")))
	if !strings.Contains(r.out, "verified sha256:") || !strings.Contains(r.out, "(a.pub)") {
		t.Fatalf("verify printed %+v", r)
	}
	if r := axonCLI(t, home, "", "verify", "local/mlp@0.1", "--key", filepath.Join(keys, "b.pub")); r.code == 0 || !strings.Contains(r.err, "none verifies") {
		t.Fatalf("verify with the wrong key: %+v", r)
	}
	t.Setenv("COSIGN_PASSWORD", "wrong")
	if r := axonCLI(t, home, "", "sign", "local/mlp@0.1", "--key", filepath.Join(keys, "a.key")); r.code == 0 || !strings.Contains(r.err, "COSIGN_PASSWORD") {
		t.Fatalf("sign with the wrong password: %+v", r)
	}
}
