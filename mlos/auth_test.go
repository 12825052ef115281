package mlos_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"golang.org/x/crypto/bcrypt"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// TestRegistryAuth: a registry that wants a login; mlosd finds the
// credentials in Docker's config.json, as `docker login` leaves them.
func TestRegistryAuth(t *testing.T) {
	bin := testutil.Tool(t, "registry")
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("alice:"+string(hash)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testutil.FreeAddr(t)
	cfg := fmt.Sprintf(`version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: %s}}
http: {addr: %s}
auth: {htpasswd: {realm: test, path: %s}}
`, filepath.Join(dir, "data"), addr, filepath.Join(dir, "htpasswd"))
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	testutil.Start(t, []string{"OTEL_TRACES_EXPORTER=none"}, bin, "serve", filepath.Join(dir, "config.yml"))
	testutil.WaitHTTP(t, "http://"+addr+"/v2/", 30*time.Second)

	repo, err := remote.NewRepository(addr + "/secure/affine")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	repo.Client = &auth.Client{Credential: auth.StaticCredential(addr, auth.Credential{Username: "alice", Password: "s3cret"})}
	desc := affinePkg(t).Push(t, repo, "v1")

	ctx := context.Background()
	// Without credentials: refused, and not as a server error.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	anon := newManager(t, t.TempDir(), mlos.BatchOptions{})
	if _, err := anon.Register(ctx, addr+"/secure/affine:v1", ""); mlos.StatusOf(err) != http.StatusBadGateway {
		t.Fatalf("anonymous pull: %v", err)
	} else {
		t.Logf("anonymous pull: %v", err)
	}

	docker := t.TempDir()
	conf := fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`, addr, base64.StdEncoding.EncodeToString([]byte("alice:s3cret")))
	if err := os.WriteFile(filepath.Join(docker, "config.json"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", docker)
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	model, err := m.Register(ctx, addr+"/secure/affine:v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if model.Digest != desc.Digest.String() {
		t.Fatalf("pulled %s, pushed %s", model.Digest, desc.Digest)
	}
}
