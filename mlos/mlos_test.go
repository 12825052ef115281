package mlos_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos"
	"github.com/mlos-foundation/axon/mlos/mlostest"
	"github.com/mlos-foundation/axon/schemas"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"
)

func newManager(t *testing.T, dir string, batch mlos.BatchOptions) *mlos.Manager {
	t.Helper()
	m, err := mlos.NewManager(context.Background(), mlos.Options{DataDir: dir, ORTLib: testutil.ORTLibrary(t), Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// serve lays a package out on disk and registers it from there.
func serve(t *testing.T, m *mlos.Manager, pkg mlostest.Package) *mlos.Model {
	t.Helper()
	layout := t.TempDir()
	pkg.Layout(t, layout, "v")
	model, err := m.Register(context.Background(), "oci-layout://"+layout+":v", "")
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// concurrently runs f(0) … f(n-1) at once, waits for all of them and fails
// the test with an error one of them returned.
func concurrently(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var g errgroup.Group
	for i := range n {
		g.Go(func() error { return f(i) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// affineRow sends the affine model row i, alone, and checks that the
// answer is that row's.
func affineRow(ctx context.Context, model *mlos.Model, i int) error {
	x := [3]float32{float32(i), float32(-i) / 2, 1}
	outs, _, err := model.Infer(ctx, map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{1, 3}, Data: x[:]}})
	if err != nil {
		return err
	}
	want := mlostest.AffineRef(x)
	got := outs[0].Data.([]float32)
	if len(got) != 2 || outs[0].Shape[0] != 1 || math.Abs(float64(got[0]-want[0])) > 1e-4 || math.Abs(float64(got[1]-want[1])) > 1e-4 {
		return fmt.Errorf("request %d got %v, want %v", i, got, want)
	}
	return nil
}

func affinePkg(t *testing.T) mlostest.Package {
	return mlostest.Package{Namespace: "test", Name: "affine", Version: "1.0.0", Model: mlostest.AffineModel(t)}
}

func statusOf(t *testing.T, err error, want int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error with status %d, got none", want)
	}
	if got := mlos.StatusOf(err); got != want {
		t.Fatalf("status %d for %v, want %d", got, err, want)
	}
}

func TestRegisterLayoutInferAndCache(t *testing.T) {
	layout := t.TempDir()
	desc := affinePkg(t).Layout(t, layout, "v1")
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	ctx := context.Background()

	model, err := m.Register(ctx, "oci-layout://"+layout+":v1", "")
	if err != nil {
		t.Fatal(err)
	}
	if model.Name != "test/affine" || model.Digest != desc.Digest.String() {
		t.Fatalf("registered %s %s, want test/affine %s", model.Name, model.Digest, desc.Digest)
	}
	if want := "oci-layout://" + layout + "@" + desc.Digest.String(); model.Pinned != want {
		t.Fatalf("pinned %q, want %q", model.Pinned, want)
	}
	x := [][3]float32{{1, 2, 3}, {-1, 0.5, 4}, {0, 0, 0}}
	var flat []float32
	for _, r := range x {
		flat = append(flat, r[:]...)
	}
	outs, _, err := model.Infer(ctx, map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{3, 3}, Data: flat}})
	if err != nil {
		t.Fatal(err)
	}
	got := outs[0].Data.([]float32)
	for i, r := range x {
		want := mlostest.AffineRef(r)
		for j := range want {
			if math.Abs(float64(got[i*2+j]-want[j])) > 1e-5 {
				t.Fatalf("row %d: got %v, want %v", i, got[i*2:i*2+2], want)
			}
		}
	}

	// The seed API's nested arrays: one example without a batch dimension.
	out, _, err := model.InferJSON(ctx, []any{1.0, 2.0, 3.0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	y := out.(map[string]any)["y"].([]any)[0].([]any)
	if want := mlostest.AffineRef(x[0]); math.Abs(float64(y[0].(float32))-float64(want[0])) > 1e-5 {
		t.Fatalf("seed output %v, want %v", y, want)
	}

	// Same digest again with the source gone: served from the cache.
	if err := m.Unregister("test/affine"); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(layout); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Register(ctx, "oci-layout://"+layout+"@"+desc.Digest.String(), "again/affine"); err != nil {
		t.Fatalf("register from cache: %v", err)
	}
	if _, err := m.Register(ctx, "oci-layout://"+layout+":v1", ""); err == nil {
		t.Fatal("a tag from a missing layout registered")
	}
	statusOf(t, m.Unregister("nope/nope"), http.StatusNotFound)
}

func TestBadInputs(t *testing.T) {
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	ctx := context.Background()
	model := serve(t, m, affinePkg(t))
	cases := []struct {
		name   string
		inputs map[string]*mlos.Tensor
	}{
		{"missing", map[string]*mlos.Tensor{}},
		{"unknown", map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{1, 3}, Data: []float32{1, 2, 3}}, "z": {Name: "z", DType: mlos.Float32, Shape: []int64{1}, Data: []float32{1}}}},
		{"dtype", map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float64, Shape: []int64{1, 3}, Data: []float64{1, 2, 3}}}},
		{"rank", map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{3}, Data: []float32{1, 2, 3}}}},
		{"dim", map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{1, 4}, Data: []float32{1, 2, 3, 4}}}},
		{"count", map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{2, 3}, Data: []float32{1, 2, 3}}}},
	}
	for _, c := range cases {
		_, _, err := model.Infer(ctx, c.inputs)
		statusOf(t, err, http.StatusBadRequest)
		if c.name != "unknown" && !contains(err.Error(), `"x"`) {
			t.Errorf("%s: error %q does not name the input", c.name, err)
		}
	}
	for _, in := range []any{[]any{"a", 1.0, 2.0}, []any{[]any{1.0}, []any{1.0, 2.0}}, map[string]any{"q": []any{1.0}}, nil, "text"} {
		_, _, err := model.InferJSON(ctx, in, nil)
		statusOf(t, err, http.StatusBadRequest)
	}
	for _, ref := range []string{"", "not a ref", "oci-layout://", "localhost:1/x@sha256:zz"} {
		_, err := m.Register(ctx, ref, "")
		statusOf(t, err, http.StatusBadRequest)
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestDigestMismatchRefused(t *testing.T) {
	layout := t.TempDir()
	pkg := affinePkg(t)
	desc := pkg.Layout(t, layout, "v1")
	// Corrupt model.onnx's blob in the source layout, keeping its size.
	d := digest.FromBytes(pkg.Model)
	p := filepath.Join(layout, "blobs", "sha256", d.Encoded())
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	_, err = m.Register(context.Background(), "oci-layout://"+layout+"@"+desc.Digest.String(), "")
	statusOf(t, err, http.StatusUnprocessableEntity)
	if _, ok := m.Get("test/affine"); ok {
		t.Fatal("a package with a corrupt blob was registered")
	}
}

func TestInvalidManifestRefused(t *testing.T) {
	layout := t.TempDir()
	pkg := affinePkg(t)
	pkg.Edit = func(m *schemas.Manifest) { m.Files[0].Digest = "sha256:" + strings.Repeat("0", 64) }
	pkg.Layout(t, layout, "bad")
	pkg.Edit = func(m *schemas.Manifest) { m.Format.Model = "../../etc/passwd" }
	pkg.Layout(t, layout, "escape")
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	for _, tag := range []string{"bad", "escape"} {
		_, err := m.Register(context.Background(), "oci-layout://"+layout+":"+tag, "")
		statusOf(t, err, http.StatusUnprocessableEntity)
		t.Logf("%s: %v", tag, err)
	}
}

func TestRestoreAfterRestart(t *testing.T) {
	layout, data := t.TempDir(), t.TempDir()
	desc := affinePkg(t).Layout(t, layout, "v1")
	half := mlostest.Package{Namespace: "test", Name: "half", Version: "1", Model: mlostest.HalfModel(t)}
	half.Layout(t, layout, "half")
	ctx := context.Background()
	m1, err := mlos.NewManager(ctx, mlos.Options{DataDir: data, ORTLib: testutil.ORTLibrary(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m1.Register(ctx, "oci-layout://"+layout+":v1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := m1.Register(ctx, "oci-layout://"+layout+":half", ""); err != nil {
		t.Fatal(err)
	}
	m1.Close()
	// Break the second model's cached package so its restore fails.
	cache := filepath.Join(data, "models")
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		if e.Name() != desc.Digest.Encoded() {
			os.RemoveAll(filepath.Join(cache, e.Name()))
		}
	}
	if err := os.RemoveAll(layout); err != nil {
		t.Fatal(err)
	}
	blobs := filepath.Join(data, "cache", "blobs", "sha256")
	os.Remove(filepath.Join(blobs, digest.FromBytes(half.Model).Encoded()))

	m2 := newManager(t, data, mlos.BatchOptions{})
	if err := m2.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	a, ok := m2.Get("test/affine")
	if !ok || !a.Ready() {
		t.Fatalf("test/affine not restored: %+v", a.Info())
	}
	h, ok := m2.Get("test/half")
	if !ok {
		t.Fatal("test/half forgotten")
	}
	if st, msg := h.Status(); st != mlos.StateFailed || msg == "" {
		t.Fatalf("test/half state %s %q, want failed with a reason", st, msg)
	}
	if _, _, err := a.InferJSON(ctx, []any{1.0, 2.0, 3.0}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestDynamicBatching(t *testing.T) {
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 8, MaxQueueDelay: 100 * time.Millisecond, Executors: 1})
	ctx := context.Background()
	model := serve(t, m, affinePkg(t))
	if !model.Info().Batching {
		t.Fatal("batching is off for a dynamic-batch model")
	}
	const n = 16
	concurrently(t, n, func(i int) error { return affineRow(ctx, model, i) })
	execs := mlos.ExecCount(m, "test/affine")
	if execs >= n {
		t.Fatalf("%v executions for %d requests: nothing was batched", execs, n)
	}
	t.Logf("%d requests in %v executions", n, execs)
}

func TestHalfAndStrings(t *testing.T) {
	m := newManager(t, t.TempDir(), mlos.BatchOptions{MaxBatchSize: 4})
	ctx := context.Background()
	half := serve(t, m, mlostest.Package{Namespace: "test", Name: "half", Version: "1", Model: mlostest.HalfModel(t)})
	in := []float32{1.5, -0.25, 1000, 3}
	h := make([]uint16, len(in))
	for i, v := range in {
		h[i] = mlos.Float32ToFloat16(v)
	}
	outs, _, err := half.Infer(ctx, map[string]*mlos.Tensor{"h": {Name: "h", DType: mlos.Float16, Shape: []int64{2, 2}, Data: h}})
	if err != nil {
		t.Fatal(err)
	}
	got := outs[0].Float64s()
	for i, v := range in {
		if got[i] != float64(2*v) {
			t.Fatalf("fp16 output %v, want 2×%v", got, in)
		}
	}
	str := serve(t, m, mlostest.Package{Namespace: "test", Name: "strings", Version: "1", Model: mlostest.StringModel(t)})
	outs, _, err = str.Infer(ctx, map[string]*mlos.Tensor{"s": {Name: "s", DType: mlos.String, Shape: []int64{2}, Data: []string{"héllo", ""}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := outs[0].Data.([]string); len(s) != 2 || s[0] != "héllo" || s[1] != "" {
		t.Fatalf("string output %q", s)
	}
}

func TestFloat16Conversions(t *testing.T) {
	for _, c := range []struct {
		f float32
		h uint16
	}{{1, 0x3c00}, {0.5, 0x3800}, {-2, 0xc000}, {65504, 0x7bff}, {0, 0}, {float32(math.Inf(1)), 0x7c00}, {5.960464477539063e-08, 0x0001}} {
		if got := mlos.Float32ToFloat16(c.f); got != c.h {
			t.Errorf("fp16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
		if got := mlos.Float16ToFloat32(c.h); got != c.f {
			t.Errorf("fp16 %#04x = %v, want %v", c.h, got, c.f)
		}
	}
	for _, c := range []struct {
		f float32
		h uint16
	}{{1, 0x3f80}, {-2, 0xc000}, {0.15625, 0x3e20}} {
		if got := mlos.Float32ToBFloat16(c.f); got != c.h {
			t.Errorf("bf16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
		if got := mlos.BFloat16ToFloat32(c.h); got != c.f {
			t.Errorf("bf16 %#04x = %v, want %v", c.h, got, c.f)
		}
	}
}

// TestUnregisterUnderLoad: requests in flight while the model goes away get
// answers (results or 503/404), never a crash or a hang.
func TestUnregisterUnderLoad(t *testing.T) {
	layout := t.TempDir()
	affinePkg(t).Layout(t, layout, "v1")
	for _, batch := range []mlos.BatchOptions{{}, {MaxBatchSize: 4, Executors: 2}} {
		m := newManager(t, t.TempDir(), batch)
		ctx := context.Background()
		model, err := m.Register(ctx, "oci-layout://"+layout+":v1", "")
		if err != nil {
			t.Fatal(err)
		}
		stop := testutil.Repeat(8, func() bool {
			_, _, err := model.Infer(ctx, map[string]*mlos.Tensor{"x": {Name: "x", DType: mlos.Float32, Shape: []int64{1, 3}, Data: []float32{1, 2, 3}}})
			if err != nil && mlos.StatusOf(err) != http.StatusServiceUnavailable {
				t.Errorf("in-flight request: %v", err)
				return false
			}
			return true
		})
		time.Sleep(50 * time.Millisecond)
		if err := m.Unregister("test/affine"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		stop()
	}
}

func TestConcurrentRegistrations(t *testing.T) {
	layout := t.TempDir()
	desc := affinePkg(t).Layout(t, layout, "v1")
	m := newManager(t, t.TempDir(), mlos.BatchOptions{})
	concurrently(t, 6, func(i int) error {
		ref := "oci-layout://" + layout + "@" + desc.Digest.String()
		if i%2 == 0 {
			ref = "oci-layout://" + layout + ":v1"
		}
		_, err := m.Register(context.Background(), ref, "c/affine-"+string(rune('a'+i)))
		return err
	})
	if n := len(m.List()); n != 6 {
		t.Fatalf("%d models registered, want 6", n)
	}
}

// TestLifecycleLogged: every change to what is served leaves a log line.
func TestLifecycleLogged(t *testing.T) {
	var logs bytes.Buffer
	m, err := mlos.NewManager(context.Background(), mlos.Options{DataDir: t.TempDir(), ORTLib: testutil.ORTLibrary(t), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	ctx := context.Background()
	serve(t, m, affinePkg(t))
	for _, step := range []func() error{
		func() error { return m.Unload("test/affine") },
		func() error { return m.Load(ctx, "test/affine") },
		func() error { return m.Unregister("test/affine") },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{`msg="model registered" model=test/affine`, `msg="model unloaded" model=test/affine`, `msg="model loaded" model=test/affine`, `msg="model unregistered" model=test/affine`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in\n%s", want, logs.String())
		}
	}
}

// TestShutdownCutsPullShort: SIGTERM (the manager's context ending) stops a
// registration stuck on an unresponsive registry with a 503 that says why,
// instead of holding the graceful shutdown until its deadline.
func TestShutdownCutsPullShort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepted, never answered
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := mlos.NewManager(ctx, mlos.Options{DataDir: t.TempDir(), ORTLib: testutil.ORTLibrary(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	errc := make(chan error, 1)
	go func() {
		_, err := m.Register(context.Background(), ln.Addr().String()+"/stuck/model:1", "")
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		statusOf(t, err, http.StatusServiceUnavailable)
		if !strings.Contains(err.Error(), "shutting down") {
			t.Fatalf("error %q does not say mlosd is shutting down", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("registration still pulling 10s after shutdown began")
	}
}
