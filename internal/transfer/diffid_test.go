package transfer

import (
	"context"
	"errors"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
	"github.com/mlos-foundation/axon/internal/testutil"
)

// axon pull checks a ModelPack's compressed layers against the config's
// modelfs.diffIds and refuses a mismatch in one line, leaving the artifact
// unnamed in the store; the right diffIds pull as before.
func TestPullChecksModelPackDiffIDs(t *testing.T) {
	ctx := context.Background()
	reg := testutil.StartDistribution(t)
	creds := WithCredentials(credentials.NewMemoryStore())
	repo, err := remote.NewRepository(reg + "/acme/tiny")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	src := artifacttest.ModelDir(t, 6)
	a, extra := artifacttest.ModelPack("acme/tiny", false)
	extra(t, src)
	artifacttest.Push(t, ctx, repo, "good", src, a)
	wrong := digest.FromString("not the docs")
	b := a
	b.ConfigForDiffIDs = func(d []digest.Digest) any {
		d = append([]digest.Digest(nil), d...)
		d[4] = wrong // README.md, tar+zstd
		return a.ConfigForDiffIDs(d)
	}
	artifacttest.Push(t, ctx, repo, "bad", src, b)

	st := openStore(t)
	if _, err := Pull(ctx, st, reg+"/acme/tiny:good", creds); err != nil {
		t.Fatalf("pull with the right diffIds: %v", err)
	}
	_, err = Pull(ctx, st, reg+"/acme/tiny:bad", creds)
	var de *artifact.DiffIDError
	if !errors.As(err, &de) || de.Path != "README.md" || !strings.Contains(err.Error(), "pull "+reg+"/acme/tiny:bad: layer README.md: its uncompressed content is") {
		t.Fatalf("pull with a wrong diffId: %v", err)
	}
	if _, err := st.Resolve(ctx, reg+"/acme/tiny:bad"); err == nil {
		t.Fatal("the refused artifact was tagged in the store")
	}
}
