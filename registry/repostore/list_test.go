package repostore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
)

// countingDriver counts List calls, the cost of a catalog walk.
type countingDriver struct {
	driver.Driver
	lists int
}

func (c *countingDriver) List(ctx context.Context, p string) ([]string, error) {
	c.lists++
	return c.Driver.List(ctx, p)
}

// Paging through the catalog gives exactly the sorted names, however they nest
// ("a" < "a-x" < "a/b" though the walk meets a/b first), and the pages together
// cost about one walk of the tree, not one per page.
func TestListRepositoriesPages(t *testing.T) {
	ctx := context.Background()
	fsd, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := &countingDriver{Driver: fsd}
	st := New(d, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	names := []string{"a", "a-x", "a/b", "a/b/c", "a/b-c", "a.b", "b", "team/m1", "team/m2", "team/sub/m3", "z/y/x"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		names = append(names, fmt.Sprintf("ns%d/m%d", rng.IntN(8), i))
	}
	blob := []byte("shared layer")
	for _, n := range names {
		if _, err := st.PutBlob(ctx, n, digest.FromBytes(blob), int64(len(blob)), bytes.NewReader(blob)); err != nil {
			t.Fatal(err)
		}
	}
	want := slices.Clone(names)
	slices.Sort(want)
	want = slices.Compact(want)

	d.lists = 0
	all, err := st.ListRepositories(ctx, -1, "")
	if err != nil || !slices.Equal(all, want) {
		t.Fatalf("all: %v, %v\nwant %v", all, err, want)
	}
	full := d.lists
	for _, size := range []int{1, 2, 3, 7, 100} {
		d.lists = 0
		var got []string
		last := ""
		for {
			p, err := st.ListRepositories(ctx, size, last)
			if err != nil {
				t.Fatal(err)
			}
			if len(p) == 0 {
				break
			}
			got = append(got, p...)
			last = p[len(p)-1]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages of %d: %v\nwant %v", size, got, want)
		}
		// each page costs about a path from the root, not a whole walk (pages*full)
		if pages := len(want)/size + 2; d.lists > full+5*pages {
			t.Errorf("pages of %d: %d List calls for %d pages; one full walk is %d", size, d.lists, pages, full)
		}
	}
}
