package store

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
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
