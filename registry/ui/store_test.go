package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	regnames "github.com/mlos-foundation/axon/registry/names"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
	"github.com/mlos-foundation/axon/schemas"
)

// A UI started over the registry's store (as after a restart, with no push seen)
// dates tags by when they were pushed, not by the created annotation, and shows
// an epoch created annotation (reproducible packs of undated sources) as unknown.
func TestRestartKeepsPushTimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := repostore.New(d, repostore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cfg := []byte("{}")
	cfgDesc := ocispec.Descriptor{MediaType: "application/vnd.test.config", Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	if _, err := st.PutBlob(ctx, "team/undated", cfgDesc.Digest, cfgDesc.Size, bytes.NewReader(cfg)); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
		ArtifactType: "application/vnd.test", Config: cfgDesc, Layers: []ocispec.Descriptor{},
		Annotations: map[string]string{schemas.AnnotationCreated: "1970-01-01T00:00:00Z"},
	})
	pushed := time.Now().Add(-2 * time.Second) // file times may be coarse
	if _, err := st.PutManifest(ctx, "team/undated", regnames.Reference{Tag: "v1"}, ocispec.MediaTypeImageManifest, body); err != nil {
		t.Fatal(err)
	}

	u, err := New(st, Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if err := u.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	res := u.idx.list(Query{Sort: SortName, Page: 1, PerPage: 10})
	if len(res.Repositories) != 1 {
		t.Fatalf("cards: %+v", res)
	}
	if up := res.Repositories[0].Updated; up.Before(pushed) || up.After(time.Now().Add(time.Second)) {
		t.Fatalf("updated %v after a restart, want the push time (about %v)", up, pushed)
	}
	e := &env{t: t, ctx: ctx, ui: u}
	srv := e.server(nil)
	resp, err := http.Get(srv.URL + "/ui/models/team/undated")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Contains(string(page), "created 1970") {
		t.Fatalf("model page: %d, epoch shown as a date:\n%s", resp.StatusCode, page)
	}
}
