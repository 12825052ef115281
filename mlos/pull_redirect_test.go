package mlos_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// mlosd's puller follows axon-registry's --storage-redirect: the blobs come
// from presigned versitygw URLs, and the pulled model runs.
func TestPullThroughStorageRedirect(t *testing.T) {
	s3 := testutil.StartS3(t)
	bin := testutil.Build(t, "github.com/mlos-foundation/axon/cmd/axon-registry")
	addr := testutil.FreeAddr(t)
	reg := testutil.Start(t, s3.Env(), bin, "--addr", addr, "--storage", s3.URL(), "--storage-redirect",
		"--storage-redirect-expiry", "30s", "--ui=false", "--log-level", "info")
	testutil.WaitHTTP(t, "http://"+addr+"/v2/", 30*time.Second)
	desc := affinePkg(t).PushRemote(t, addr, "team/affine", "v1")

	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	model, err := m.Register(context.Background(), addr+"/team/affine@"+desc.Digest.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	x := [3]float32{1, -2, 0.5}
	outs, _, err := model.Infer(context.Background(), map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{1, 3}, Data: x[:]}})
	if err != nil {
		t.Fatal(err)
	}
	want, got := mlostest.AffineRef(x), outs[0].Data.([]float32)
	if len(got) != 2 || math.Abs(float64(got[0]-want[0])) > 1e-4 || math.Abs(float64(got[1]-want[1])) > 1e-4 {
		t.Fatalf("got %v, want %v", got, want)
	}
	// the registry's access log shows the blob GETs answered with redirects
	if !strings.Contains(reg.Output(), `"status":307`) {
		t.Fatalf("no blob GET was redirected; registry log:\n%s", reg.Output())
	}
}
