package repostore

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
	"github.com/opencontainers/go-digest"
)

// Two stores on one root stand for two replicas: neither shares memory with the other.
func twoStores(t *testing.T) (*Store, *Store) {
	root := t.TempDir()
	open := func() *Store {
		d, err := fs.New(root)
		if err != nil {
			t.Fatal(err)
		}
		return New(d, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	return open(), open()
}

func TestGCOneCollectorAcrossReplicas(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	l, err := a.acquireLease(ctx, gcLease, gcLeaseTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.GC(ctx, GCOptions{}); !errors.Is(err, ErrGCRunning) {
		t.Fatalf("GC on B while A collects: %v, want ErrGCRunning", err)
	}
	l.release(ctx)
	if _, err := b.GC(ctx, GCOptions{}); err != nil {
		t.Fatalf("GC on B after A finished: %v", err)
	}
	// a dead collector's lease (never released, past its expiry) is taken over
	dead, _ := json.Marshal(leaseDoc{Owner: "crashed", Expires: time.Now().Add(-time.Second)})
	if err := a.d.PutContent(ctx, gcLease, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GC(ctx, GCOptions{}); err != nil {
		t.Fatalf("GC after a collector died: %v", err)
	}
}

// A collector that died mid-sweep leaves a doomed marker: pushes of that blob
// must not wait on it forever, and the next collection clears it.
func TestStaleDoomedMarker(t *testing.T) {
	a, b := twoStores(t)
	ctx := context.Background()
	d := digestOf("blob")
	if err := a.d.PutContent(ctx, doomedMarker(d), []byte("gc")); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.doomed(ctx, d); !ok {
		t.Fatal("a fresh doomed marker is ignored")
	}
	old := time.Now().Add(-2 * staleDoomed)
	os.Chtimes(filepath.Join(a.d.(*fs.Driver).Root(), doomedMarker(d)), old, old)
	start := time.Now()
	if _, err := b.protect(ctx, d); err != nil || time.Since(start) > 5*time.Second {
		t.Fatalf("protect behind a dead collector's marker: %v after %s", err, time.Since(start))
	}
	a.d.PutContent(ctx, doomedMarker(d), []byte("gc"))
	if _, err := b.GC(ctx, GCOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.d.Stat(ctx, doomedMarker(d)); !isNotFound(err) {
		t.Fatalf("doomed marker survived a collection: %v", err)
	}
}

func digestOf(s string) digest.Digest { return digest.FromString(s) }
