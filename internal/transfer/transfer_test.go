package transfer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/schemas"
	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/bcrypt"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// roundTrip: pack → push → rm → pull → export, files byte-identical and
// digests unchanged.
func roundTrip(t *testing.T, registry string) {
	ctx := context.Background()
	dir := modelDir(t, 3, 1)
	st := openStore(t)
	packed, err := st.Pack(ctx, dir, artifact.WithName("hf", "tiny"), artifact.WithVersion("1.0"))
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := Push(ctx, st, "hf/tiny@1.0", registry, WithCredentials(credentials.NewMemoryStore()))
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Descriptor.Digest != packed.Descriptor.Digest || pushed.Ref != registry+"/hf/tiny:1.0" || pushed.Blobs != 8 {
		t.Fatalf("push result %+v", pushed)
	}
	// A package tagged with a registry reference is pushed there by default.
	if err := st.Tag(ctx, packed.Descriptor, registry+"/team/tiny:prod"); err != nil {
		t.Fatal(err)
	}
	if res, err := Push(ctx, st, registry+"/team/tiny:prod", "", WithCredentials(credentials.NewMemoryStore())); err != nil || res.Ref != registry+"/team/tiny:prod" {
		t.Fatalf("push of a registry-tagged package: %+v %v", res, err)
	}
	// A second push moves nothing.
	again, err := Push(ctx, st, "hf/tiny@1.0", registry, WithCredentials(credentials.NewMemoryStore()))
	if err != nil || again.Blobs != 0 {
		t.Fatalf("second push moved %+v, %v", again, err)
	}
	if got := st.Remotes(packed.Descriptor.Digest); len(got) != 2 || got[0] != registry+"/hf/tiny" || got[1] != registry+"/team/tiny" {
		t.Errorf("Remotes = %v", got)
	}
	for _, ref := range []string{"hf/tiny@1.0", registry + "/team/tiny:prod"} {
		if err := st.Remove(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(st.Path(), "blobs", "sha256")); len(entries) != 0 {
		t.Fatalf("%d blobs left after rm + prune", len(entries))
	}
	pulled, err := Pull(ctx, st, registry+"/hf/tiny:1.0", WithCredentials(credentials.NewMemoryStore()))
	if err != nil {
		t.Fatal(err)
	}
	if pulled.Descriptor.Digest != packed.Descriptor.Digest {
		t.Fatalf("pulled %s, packed %s", pulled.Descriptor.Digest, packed.Descriptor.Digest)
	}
	// Into an empty store everything was pulled, manifest.yaml included
	// (it is fetched ahead of the copy to be validated).
	if pulled.Skipped != 0 || pulled.Blobs != pushed.Blobs {
		t.Errorf("pull into an empty store: %d pulled, %d already here; want %d, 0", pulled.Blobs, pulled.Skipped, pushed.Blobs)
	}
	out := t.TempDir()
	if err := st.Export(ctx, registry+"/hf/tiny:1.0", out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, dir, out)
	pkg, err := st.Read(ctx, registry+"/hf/tiny:1.0")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range pkg.Manifest.Files {
		if f.Digest != packed.Manifest.Files[i].Digest {
			t.Errorf("%s: digest %s after the round trip, %s before", f.Path, f.Digest, packed.Manifest.Files[i].Digest)
		}
	}
	// By package name from $AXON_REGISTRY: tagged under both names.
	t.Setenv("AXON_REGISTRY", registry)
	if _, err := Pull(ctx, st, "hf/tiny@1.0", WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatalf("pull by package name: %v", err)
	}
	if d, err := st.Resolve(ctx, "hf/tiny@1.0"); err != nil || d.Digest != packed.Descriptor.Digest {
		t.Fatalf("hf/tiny@1.0 after pull: %s %v", d.Digest, err)
	}
	// By digest too.
	if _, err := Pull(ctx, st, registry+"/hf/tiny@"+packed.Descriptor.Digest.String(), WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatalf("pull by digest: %v", err)
	}
}

func TestRoundTripDistribution(t *testing.T) {
	roundTrip(t, testutil.StartDistribution(t))
}

func TestRoundTripAxonRegistry(t *testing.T) {
	roundTrip(t, axonRegistryUnlessShort(t))
}

// An interrupted pull keeps what it finished and its partial blob; the next
// pull fetches only the rest (Range request) and nothing it already has.
func TestPullResumes(t *testing.T) {
	ctx := context.Background()
	reg := testutil.StartDistribution(t)
	dir := modelDir(t, 8, 2)
	src := openStore(t)
	packed, err := src.Pack(ctx, dir, artifact.WithName("hf", "big"), artifact.WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, src, "hf/big@1", reg, WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatal(err)
	}
	px := startProxy(t, reg)
	target := px.Addr + "/hf/big:1"
	var bigSize int64
	for _, f := range packed.Manifest.Files {
		if f.Path == "original/weights.bin" {
			bigSize = f.Size
		}
	}

	st := openStore(t)
	cctx, cancel := context.WithCancel(ctx)
	_, err = Pull(cctx, st, target, WithConcurrency(1), WithCredentials(credentials.NewMemoryStore()),
		WithProgress(&cancelAfter{name: "original/weights.bin", n: 3 << 20, cancel: cancel}))
	cancel()
	if err == nil {
		t.Fatal("the interrupted pull succeeded")
	}
	if !errors.Is(err, context.Canceled) || !strings.HasSuffix(err.Error(), "interrupted; run the same pull again to resume") {
		t.Errorf("interrupted pull: %v (want context.Canceled in the chain and how to resume)", err)
	}
	if _, err := st.Resolve(ctx, target); err == nil {
		t.Fatal("an interrupted pull left a tag")
	}
	partial, _ := os.ReadDir(partialDir(st))
	if len(partial) != 1 {
		t.Fatalf("partial downloads: %v", partial)
	}
	fi, _ := partial[0].Info()
	have := fi.Size()
	if have < 3<<20 || have >= bigSize {
		t.Fatalf("partial file has %d of %d bytes", have, bigSize)
	}
	// What the interrupted pull completed must not move again.
	completed := map[string]bool{}
	pkgOCI, err := artifact.Read(ctx, src, packed.Descriptor)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range append(pkgOCI.OCI.Layers, pkgOCI.OCI.Config) {
		if ok, _ := st.Exists(ctx, l); ok {
			completed["/v2/hf/big/blobs/"+l.Digest.String()] = true
		}
	}
	if len(completed) == 0 {
		t.Fatal("the interrupted pull completed no blob (concurrency 1: the small ones come first)")
	}
	px.Reset()

	res, err := Pull(ctx, st, target, WithCredentials(credentials.NewMemoryStore()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != packed.Descriptor.Digest {
		t.Fatal("wrong digest after resume")
	}
	var bigGets []blobGet
	for _, g := range px.Gets() {
		if strings.HasSuffix(g.Path, strings.TrimPrefix(digestOf(packed.Manifest, "original/weights.bin"), "sha256:")) {
			bigGets = append(bigGets, g)
			continue
		}
		if completed[g.Path] {
			t.Errorf("the resumed pull fetched %s again", g.Path)
		}
	}
	var moved int64
	ranged := false
	for _, g := range bigGets {
		moved += g.Bytes
		ranged = ranged || strings.HasPrefix(g.Range, "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	if !ranged {
		t.Errorf("no Range request from byte %d: %+v", have, bigGets)
	}
	// The first (unranged) response may have started before the seek; what
	// matters is that far less than the whole blob moved again.
	if moved > bigSize-have+(1<<20) {
		t.Errorf("resumed pull moved %d bytes of the big blob; %d were left", moved, bigSize-have)
	}
	if left, _ := os.ReadDir(partialDir(st)); len(left) != 0 {
		t.Errorf("partial files left: %v", left)
	}
	out := t.TempDir()
	if err := st.Export(ctx, target, out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, dir, out)
}

func digestOf(m *schemas.Manifest, path string) string {
	for _, f := range m.Files {
		if f.Path == path {
			return f.Digest
		}
	}
	return ""
}

// oras pull of an axon package writes the files under their names; axon pull
// of a plain oras artifact says what it holds and stores nothing.
func TestOrasInterop(t *testing.T) {
	ctx := context.Background()
	oras := testutil.Tool(t, "oras")
	reg := testutil.StartDistribution(t)
	dir := modelDir(t, 1, 3)
	st := openStore(t)
	if _, err := st.Pack(ctx, dir, artifact.WithName("hf", "tiny"), artifact.WithVersion("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, st, "hf/tiny@1", reg, WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	runTool(t, out, oras, "pull", "--plain-http", reg+"/hf/tiny:1")
	sameTree(t, dir, out)

	plain := t.TempDir()
	writeFile(t, plain, "hello.txt", "hello")
	writeFile(t, plain, "data.bin", "0123456789")
	runTool(t, plain, oras, "push", "--plain-http", reg+"/plain/thing:v1", "hello.txt", "data.bin")
	_, err := Pull(ctx, st, reg+"/plain/thing:v1", WithCredentials(credentials.NewMemoryStore()))
	var np *artifact.NotPackageError
	if !errors.As(err, &np) {
		t.Fatalf("pull of a plain artifact: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"not an axon model package", "hello.txt", "data.bin", "oras pull fetches"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if _, err := st.Resolve(ctx, reg+"/plain/thing:v1"); err == nil {
		t.Error("the plain artifact was tagged in the store")
	}

	// An artifact that claims to be an axon package but whose manifest.yaml
	// breaks the schema: refused, naming the field.
	writeFile(t, plain, "bad.yaml", "apiVersion: axon.mlos.dev/v1\nkind: ModelPackage\nname: x\nnamespace: y\nversion: \"1\"\nframework: {name: onnx}\nformat: {name: onnx}\n"+
		"io: {inputs: [{name: a, dtype: float33, shape: [1]}], outputs: []}\nresources: {bytes: 5}\nfiles: [{path: hello.txt, role: model, digest: \"sha256:"+strings.Repeat("0", 64)+"\", size: 5}]\n")
	runTool(t, plain, oras, "push", "--plain-http", "--artifact-type", schemas.ArtifactType, "--config", "bad.yaml:"+schemas.MediaTypeManifest, reg+"/fake/pkg:v1", "hello.txt")
	_, err = Pull(ctx, st, reg+"/fake/pkg:v1", WithCredentials(credentials.NewMemoryStore()))
	if err == nil || !strings.Contains(err.Error(), "io.inputs[0].dtype") {
		t.Fatalf("pull of a package with a bad manifest.yaml: %v", err)
	}
	if list, _ := st.List(ctx); len(list) != 1 {
		t.Errorf("store holds %d packages, want only hf/tiny@1", len(list))
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AXON_REGISTRY", "127.0.0.1:1")
	st := openStore(t)
	reg := testutil.StartDistribution(t)
	for _, tc := range []struct{ target, want string }{
		{"localhost:5000", "invalid reference"},
		{"hf/bert@1", "127.0.0.1:1"},
		{"reg.io/UPPER:1", "invalid reference"},
		{reg + "/no/such:1", "not found"},
		{"127.0.0.1:1/a/b:1", "cannot reach the registry"},
	} {
		_, err := Pull(ctx, st, tc.target, WithCredentials(credentials.NewMemoryStore()))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("pull %s: %v, want %q", tc.target, err, tc.want)
		}
	}
	// A registry that fails: the status and what to do, in one line.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "disk on fire", http.StatusInternalServerError)
	}))
	defer broken.Close()
	// (without the retrying transport, which would wait out its back-off)
	_, err := Pull(ctx, st, strings.TrimPrefix(broken.URL, "http://")+"/a/b:1", WithCredentials(credentials.NewMemoryStore()), WithHTTPClient(&http.Client{}))
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), "the registry failed: try again") || strings.Contains(err.Error(), "response status code") {
		t.Errorf("pull from a failing registry: %v", err)
	}
	if _, err := Push(ctx, st, "hf/absent@1", reg, WithCredentials(credentials.NewMemoryStore())); err == nil || !strings.Contains(err.Error(), "no such package") {
		t.Errorf("push of an absent package: %v", err)
	}
	if entries, _ := st.List(ctx); len(entries) != 0 {
		t.Errorf("store not empty after bad input: %v", entries)
	}

	// A damaged blob in the store: push refuses it (it reads through the
	// store's verifying Fetch), and the error says what is wrong and how to recover.
	packed, err := st.Pack(ctx, modelDir(t, 0, 5), artifact.WithName("hf", "damaged"))
	if err != nil {
		t.Fatal(err)
	}
	blob := blobFile(st, digestOfDesc(t, packed.Manifest, "README.md"))
	os.Chmod(blob, 0o644)
	if err := os.WriteFile(blob, []byte("# tinY\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Push(ctx, st, "hf/damaged@latest", reg, WithCredentials(credentials.NewMemoryStore()))
	if err == nil || !strings.Contains(err.Error(), "the local store's copy is damaged; axon rm the package") || strings.Contains(err.Error(), "PUT ") {
		t.Errorf("push of a damaged blob: %v", err)
	}
	// A registry that has the manifest but lost a blob: said so, with the blob.
	gapStore := openStore(t) // st holds the damaged README.md blob
	gapPkg, err := gapStore.Pack(ctx, modelDir(t, 0, 6), artifact.WithName("hf", "gap"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, gapStore, "hf/gap@latest", reg, WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatal(err)
	}
	lost := digestOf(gapPkg.Manifest, "README.md")
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: reg})
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) } // the pull cancels its other fetches
	gap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/blobs/"+lost) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer gap.Close()
	_, err = Pull(ctx, openStore(t), strings.TrimPrefix(gap.URL, "http://")+"/hf/gap:latest", WithCredentials(credentials.NewMemoryStore()))
	if err == nil || !strings.HasSuffix(err.Error(), "the registry lacks blob "+lost+" of this package: it was pushed incompletely or garbage-collected; push it again") {
		t.Errorf("pull with a blob gone from the registry: %v", err)
	}

	// A blob gone from the store: said as the store's problem, not "not found in the registry".
	os.Remove(blobFile(st, digestOfDesc(t, packed.Manifest, "config.json")))
	_, err = Push(ctx, st, "hf/damaged@latest", reg+"/hf/other:1", WithCredentials(credentials.NewMemoryStore()))
	var missing *store.MissingError
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "is missing from the local store; axon rm the package") || strings.Contains(err.Error(), "registry") {
		t.Errorf("push with a blob missing: %v", err)
	}
}

func digestOfDesc(t *testing.T, m *schemas.Manifest, path string) digest.Digest {
	t.Helper()
	d, err := digest.Parse(digestOf(m, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func TestPushTarget(t *testing.T) {
	m := &schemas.Manifest{Namespace: "hf", Name: "bert", Version: "1.0"}
	t.Setenv("AXON_REGISTRY", "")
	for in, want := range map[string]string{
		"":                               "localhost:5000/hf/bert:1.0",
		"reg.io:5000":                    "reg.io:5000/hf/bert:1.0",
		"reg.io/team/b":                  "reg.io/team/b:1.0",
		"reg.io/team/b:prod":             "reg.io/team/b:prod",
		"127.0.0.1:5000/x/y:v" + "2":     "127.0.0.1:5000/x/y:v2",
		"localhost:5000/hf/bert:" + "ok": "localhost:5000/hf/bert:ok",
	} {
		r, err := PushTarget(in, m)
		if err != nil || r.String() != want {
			t.Errorf("PushTarget(%q) = %s, %v; want %s", in, r, err, want)
		}
	}
	t.Setenv("AXON_REGISTRY", "http://myreg:6000/")
	if r, _ := PushTarget("", m); r.String() != "myreg:6000/hf/bert:1.0" {
		t.Errorf("with AXON_REGISTRY: %s", r)
	}
}

// Login checks and stores credentials in a docker config.json; logout forgets them.
func TestLoginLogout(t *testing.T) {
	ctx := context.Background()
	bin := testutil.Tool(t, "registry")
	dir := t.TempDir()
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	writeFile(t, dir, "htpasswd", "alice:"+string(hash)+"\n")
	addr := testutil.FreeAddr(t)
	writeFile(t, dir, "config.yml", "version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: "+filepath.Join(dir, "data")+"}}\n"+
		"auth: {htpasswd: {realm: test, path: "+filepath.Join(dir, "htpasswd")+"}}\nhttp: {addr: "+addr+"}\n")
	testutil.Start(t, []string{"OTEL_TRACES_EXPORTER=none"}, bin, "serve", filepath.Join(dir, "config.yml"))
	testutil.WaitHTTP(t, "http://"+addr+"/v2/", 30*time.Second)
	t.Setenv("DOCKER_CONFIG", t.TempDir())

	if err := Login(ctx, addr, "alice", "wrong"); err == nil || !strings.HasSuffix(err.Error(), "wrong user name or password") {
		t.Fatalf("login with a wrong password: %v", err)
	}
	if err := Logout(ctx, addr); !errors.Is(err, ErrNotLoggedIn) {
		t.Fatalf("logout before any login: %v", err)
	}
	if err := Login(ctx, addr, "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(filepath.Join(os.Getenv("DOCKER_CONFIG"), "config.json"))
	if !strings.Contains(string(cfg), addr) {
		t.Fatalf("config.json has no entry for %s: %s", addr, cfg)
	}
	st := openStore(t)
	if _, err := st.Pack(ctx, modelDir(t, 0, 4), artifact.WithName("hf", "tiny")); err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, st, "hf/tiny@latest", addr); err != nil {
		t.Fatalf("push after login: %v", err)
	}
	if err := Logout(ctx, addr); err != nil {
		t.Fatal(err)
	}
	_, err := Push(ctx, st, "hf/tiny@latest", addr+"/other/repo:1")
	if err == nil || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("push after logout: %v", err)
	}
}

// Two pulls of the same package into one store at once (two processes, say)
// both succeed and leave one copy of each blob.
func TestConcurrentPulls(t *testing.T) {
	ctx := context.Background()
	reg := testutil.StartDistribution(t)
	src := openStore(t)
	dir := modelDir(t, 4, 5)
	if _, err := src.Pack(ctx, dir, artifact.WithName("hf", "c"), artifact.WithVersion("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, src, "hf/c@1", reg, WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			st, err := store.Open(home)
			if err == nil {
				_, err = Pull(ctx, st, reg+"/hf/c:1", WithCredentials(credentials.NewMemoryStore()))
			}
			errs <- err
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	st, _ := store.Open(home)
	out := t.TempDir()
	if err := st.Export(ctx, reg+"/hf/c:1", out); err != nil {
		t.Fatal(err)
	}
	sameTree(t, dir, out)
	if left, _ := os.ReadDir(partialDir(st)); len(left) != 0 {
		t.Errorf("partial files left: %v", left)
	}
}

// partialDir is where the store keeps resumable partial downloads.
func partialDir(st *store.Store) string { return filepath.Join(st.Path(), "ingest", "partial") }

// blobFile is a blob's file in the store's OCI layout, for tests that damage it.
func blobFile(st *store.Store, d digest.Digest) string {
	return filepath.Join(st.Path(), "blobs", d.Algorithm().String(), d.Encoded())
}

// ctrl-C while another pull holds a blob's partial download ends the wait at
// once with how to go on (the wait used to be a blocking flock that ignored it).
func TestPullInterruptedWhileAnotherHoldsTheBlob(t *testing.T) {
	ctx := context.Background()
	reg := testutil.StartDistribution(t)
	src := openStore(t)
	packed, err := src.Pack(ctx, modelDir(t, 8, 2), artifact.WithName("hf", "held"), artifact.WithVersion("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Push(ctx, src, "hf/held@1", reg, WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	big := digestOfDesc(t, packed.Manifest, "original/weights.bin")
	other, err := st.Writer(ctx, big.Algorithm().String()+"-"+big.Encoded()) // "another pull"
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(300 * time.Millisecond); cancel() }()
	done := make(chan error, 1)
	go func() {
		_, err := Pull(cctx, st, reg+"/hf/held:1", WithCredentials(credentials.NewMemoryStore()))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.HasSuffix(err.Error(), "interrupted; run the same pull again to resume") {
			t.Fatalf("pull interrupted while waiting: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("pull ignored ctrl-C while another pull held its blob")
	}
	other.Close()
	if _, err := Pull(ctx, st, reg+"/hf/held:1", WithCredentials(credentials.NewMemoryStore())); err != nil {
		t.Fatalf("pull after the other let go: %v", err)
	}
}
