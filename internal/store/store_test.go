package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/fsutil"
	"github.com/mlos-foundation/axon/internal/onnx"
)

func modelDir(t *testing.T, readme string) string {
	t.Helper()
	dir := t.TempDir()
	if err := onnx.TinyMLP(4, 8, 2, 1).WriteFileExternal(filepath.Join(dir, "model.onnx"), "weights.bin"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func blobCount(t *testing.T, s *Store) int {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(s.Path(), "blobs", "sha256"))
	return len(entries)
}

func TestPackTagListRemove(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Pack(ctx, modelDir(t, "a"), artifact.WithName("hf", "a"), artifact.WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	// b shares model.onnx and weights.bin with a; only README differs.
	b, err := s.Pack(ctx, modelDir(t, "b"), artifact.WithName("hf", "b"), artifact.WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	// 2 manifests + 2 configs + 2 READMEs + model.onnx + weights.bin, each once.
	if n := blobCount(t, s); n != 8 {
		t.Fatalf("%d blobs, want 8 (shared blobs stored once)", n)
	}
	if err := s.Tag(ctx, a.Descriptor, "localhost:5000/team/a:prod"); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Ref != "hf/a@1" || list[1].Ref != "hf/b@1" || list[2].Ref != "localhost:5000/team/a:prod" {
		t.Fatalf("List = %+v", list)
	}
	if list[0].Manifest == nil || list[0].Manifest.Format.Name != "onnx" || list[0].Size == 0 || list[0].Created == "" {
		t.Errorf("entry %+v", list[0])
	}
	for _, ref := range []string{"hf/a@1", "hf/a@" + a.Descriptor.Digest.String(), a.Descriptor.Digest.String(), "localhost:5000/team/a:prod"} {
		d, err := s.Resolve(ctx, ref)
		if err != nil || d.Digest != a.Descriptor.Digest {
			t.Errorf("Resolve(%s) = %s, %v", ref, d.Digest, err)
		}
	}
	if _, err := s.Resolve(ctx, "hf/nope@1"); !errors.Is(err, ErrNotFound) || !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("Resolve of an absent ref: %v", err)
	}
	// Removing one of a's two names keeps a.
	if err := s.Remove(ctx, "hf/a@1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Resolve(ctx, "localhost:5000/team/a:prod"); err != nil {
		t.Fatalf("the other name went too: %v", err)
	}
	if n := blobCount(t, s); n != 8 {
		t.Fatalf("%d blobs after removing one of two names", n)
	}
	// Removing the last name deletes a's own blobs, not those b shares.
	if err := s.Remove(ctx, "localhost:5000/team/a:prod"); err != nil {
		t.Fatal(err)
	}
	if n := blobCount(t, s); n != 5 {
		t.Fatalf("%d blobs after rm a, want 5 (b's)", n)
	}
	if err := s.Export(ctx, "hf/b@1", t.TempDir()); err != nil {
		t.Fatalf("b broken after rm a: %v", err)
	}
	if err := s.Remove(ctx, "hf/a@1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second rm: %v", err)
	}
	if err := s.Remove(ctx, "not a ref"); err == nil {
		t.Error("rm of a malformed ref passed")
	}
	// The layout is a standard OCI layout.
	o, err := oci.New(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if d, err := o.Resolve(ctx, "hf/b@1"); err != nil || d.Digest != b.Descriptor.Digest {
		t.Errorf("oras oci store resolves %s, %v", d.Digest, err)
	}
}

func TestRemotes(t *testing.T) {
	ctx := context.Background()
	s, _ := Open(t.TempDir())
	p, err := s.Pack(ctx, modelDir(t, "x"), artifact.WithName("hf", "x"))
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Remotes(p.Descriptor.Digest); len(r) != 0 {
		t.Fatalf("remotes before push: %v", r)
	}
	s.AddRemote(ctx, p.Descriptor.Digest, "localhost:5000/hf/x")
	s.AddRemote(ctx, p.Descriptor.Digest, "reg.io/team/x")
	s.AddRemote(ctx, p.Descriptor.Digest, "localhost:5000/hf/x")
	again, _ := Open(s.Path())
	if r := again.Remotes(p.Descriptor.Digest); len(r) != 2 || r[0] != "localhost:5000/hf/x" || r[1] != "reg.io/team/x" {
		t.Fatalf("Remotes = %v", r)
	}
}

// Many writers at once (as several axon processes would) lose no tag.
func TestConcurrentTags(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	s, _ := Open(home)
	p, err := s.Pack(ctx, modelDir(t, "c"), artifact.WithName("hf", "c"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A separate Store per goroutine, like separate processes.
			si, err := Open(home)
			if err != nil {
				t.Error(err)
				return
			}
			if err := si.Tag(ctx, p.Descriptor, "hf/c@v"+string(rune('a'+i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, _ := s.List(ctx)
	if len(list) != 17 {
		t.Fatalf("%d tags after 16 concurrent tags + 1, want 17", len(list))
	}
}

func TestPruneAndFailedPack(t *testing.T) {
	ctx := context.Background()
	s, _ := Open(t.TempDir())
	dir := modelDir(t, "p")
	os.Symlink("/etc/passwd", filepath.Join(dir, "escape"))
	if _, err := s.Pack(ctx, dir, artifact.WithName("hf", "p")); err == nil {
		t.Fatal("pack with an escaping symlink passed")
	}
	if list, _ := s.List(ctx); len(list) != 0 {
		t.Fatalf("a failed pack left %v", list)
	}
	os.Remove(filepath.Join(dir, "escape"))
	if _, err := s.Pack(ctx, dir, artifact.WithName("hf", "p")); err != nil {
		t.Fatal(err)
	}
	w, err := s.Writer(ctx, "sha256-dead")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	w.Close() // kept, to be resumed
	if _, err := os.Stat(filepath.Join(s.ingest(), "partial", "sha256-dead")); err != nil {
		t.Fatalf("closed partial not kept: %v", err)
	}
	before := blobCount(t, s)
	if err := s.Remove(ctx, "hf/p@latest"); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := blobCount(t, s); n != 0 || before == 0 {
		t.Fatalf("%d blobs left after rm + prune (had %d), report %+v", n, before, rep)
	}
	if _, err := os.Stat(filepath.Join(s.ingest(), "partial")); !os.IsNotExist(err) {
		t.Errorf("partial downloads survived prune: %v", err)
	}
}

// The only ways in are verified: a writer whose content does not match what
// its caller expects files nothing, and a partial another writer holds is
// waited for only as long as ctx lives (ctrl-C).
func TestWriterVerifiesAndWaitsWithCtx(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	blob := []byte("layer bytes")
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	w, err := s.Writer(ctx, "sha256-"+desc.Digest.Encoded())
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("other bytes"))
	if _, err := w.Commit(ctx, desc.Size, desc.Digest); !errors.Is(err, fsutil.ErrMismatch) {
		t.Fatalf("commit of other content: %v", err)
	}
	if ok, _ := s.Exists(ctx, desc); ok {
		t.Fatal("content that does not match its digest became a blob")
	}
	// Held: a second writer on the same key gives up when ctx ends.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := s.Writer(cctx, "sha256-"+desc.Digest.Encoded())
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("waiting writer after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a writer waiting for a held partial ignored its cancelled context")
	}
	w.Write(blob)
	if _, err := w.Commit(ctx, desc.Size, desc.Digest); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, err := content.FetchAll(ctx, s, desc)
	if err != nil || string(got) != string(blob) {
		t.Fatalf("fetch after commit: %q %v", got, err)
	}
	dst := filepath.Join(t.TempDir(), "f")
	if err := s.Place(ctx, desc.Digest, dst); err != nil {
		t.Fatal(err)
	}
	if size, ok := s.Stat(desc.Digest); !ok || size != desc.Size {
		t.Fatalf("stat: %d %v", size, ok)
	}
	var missing *MissingError
	if err := s.Place(ctx, digest.FromString("absent"), dst); !errors.As(err, &missing) {
		t.Fatalf("place of an absent blob: %v", err)
	}
}
