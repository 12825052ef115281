package axon_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/server"
	"github.com/mlos-foundation/axon/registry/storage"
)

// example is the model shipped in the repository: a few KB of ONNX text
// classifier with its tokenizer.
const example = "examples/tiny-sentiment"

// tempHome is an empty local store for one example.
func tempHome() (string, func()) {
	dir, err := os.MkdirTemp("", "axon-example-")
	if err != nil {
		log.Fatal(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// startRegistry serves an empty axon-registry on 127.0.0.1 (plain HTTP, as
// for any loopback registry) and returns its HOST:PORT.
func startRegistry() (string, func()) {
	dir, err := os.MkdirTemp("", "axon-example-registry-")
	if err != nil {
		log.Fatal(err)
	}
	d, err := storage.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: repostore.New(d, repostore.Options{}), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	return strings.TrimPrefix(hs.URL, "http://"), func() { hs.Close(); os.RemoveAll(dir) }
}

// packed is a new local store holding the example, packed as
// examples/tiny-sentiment@version (latest when version is ""), for the
// examples of what comes after axon.Pack; done removes the store.
func packed(version string) (home string, pkg *axon.Package, done func()) {
	home, done = tempHome()
	pkg, err := axon.Pack(context.Background(), example, axon.WithHome(home), axon.WithName("examples/tiny-sentiment"), axon.WithVersion(version))
	if err != nil {
		done()
		log.Fatal(err)
	}
	return home, pkg, done
}

func ExamplePack() {
	home, done := tempHome()
	defer done()
	ctx := context.Background()
	pkg, err := axon.Pack(ctx, example, axon.WithHome(home), axon.WithName("examples/tiny-sentiment"), axon.WithVersion("1.0"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pkg.Ref, pkg.Manifest.Task)
	// Packing the same directory again gives the same digest.
	again, err := axon.Pack(ctx, example, axon.WithHome(home), axon.WithName("examples/tiny-sentiment"), axon.WithVersion("1.0"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(again.Digest() == pkg.Digest())
	// Output:
	// examples/tiny-sentiment@1.0 text-classification
	// true
}

func ExampleList() {
	home, done := tempHome()
	defer done()
	ctx := context.Background()
	opts := []axon.Option{axon.WithHome(home)}
	if _, err := axon.Pack(ctx, example, append(opts, axon.WithName("team/sentiment"), axon.WithVersion("1.0"))...); err != nil {
		log.Fatal(err)
	}
	if err := axon.Tag(ctx, "team/sentiment@1.0", "team/sentiment@stable", opts...); err != nil {
		log.Fatal(err)
	}
	if _, err := axon.Pack(ctx, example, append(opts, axon.WithName("team/other"))...); err != nil {
		log.Fatal(err)
	}
	entries, err := axon.List(ctx, "team/sentiment", opts...) // "" lists every repository
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Ref, e.Manifest.Task)
	}
	// Output:
	// team/sentiment@1.0 text-classification
	// team/sentiment@stable text-classification
}

func ExampleInspect() {
	home, _, done := packed("")
	defer done()
	info, err := axon.Inspect(context.Background(), "examples/tiny-sentiment@latest", axon.WithHome(home))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.From, info.Format, info.Descriptor.ArtifactType)
	for _, in := range info.Manifest.IO.Inputs {
		fmt.Println(in.Name, in.DType)
	}
	// Output:
	// local store axon application/vnd.axon.model.v1
	// input_ids int64
	// attention_mask int64
	// token_type_ids int64
}

func ExampleExport() {
	home, _, done := packed("")
	defer done()
	dir := filepath.Join(home, "exported")
	if err := axon.Export(context.Background(), "examples/tiny-sentiment@latest", dir, axon.WithHome(home)); err != nil {
		log.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	sort.Strings(names)
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	// Output:
	// README.md
	// config.json
	// manifest.yaml
	// model.onnx
	// tokenizer.json
}

func ExampleTag() {
	home, pkg, done := packed("1.0")
	defer done()
	ctx := context.Background()
	if err := axon.Tag(ctx, pkg.Ref, "examples/tiny-sentiment@prod", axon.WithHome(home)); err != nil {
		log.Fatal(err)
	}
	desc, err := axon.Resolve(ctx, "examples/tiny-sentiment@prod", axon.WithHome(home))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(desc.Digest == pkg.Digest())
	// Output: true
}

func ExampleRemove() {
	home, _, done := packed("1.0")
	defer done()
	// One reference that is not there does not stop the others.
	removed, err := axon.Remove(context.Background(), []string{"examples/tiny-sentiment@1.0", "examples/absent@1"}, axon.WithHome(home))
	fmt.Println(removed)
	fmt.Println(errors.Is(err, axon.ErrNotFound))
	// Output:
	// [examples/tiny-sentiment@1.0]
	// true
}

func ExamplePush() {
	home, pkg, done := packed("1.0")
	defer done()
	registry, stop := startRegistry()
	defer stop()
	ctx := context.Background()
	// No target: WithRegistry, under the package's own name and version.
	res, err := axon.Push(ctx, pkg.Ref, "", axon.WithHome(home), axon.WithRegistry(registry))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.TrimPrefix(res.Ref, registry), res.Descriptor.Digest == pkg.Digest(), res.Blobs)
	// Pushed again: the registry has the package, nothing is sent.
	res, err = axon.Push(ctx, pkg.Ref, registry+"/examples/tiny-sentiment:1.0", axon.WithHome(home))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Blobs)
	// Output:
	// /examples/tiny-sentiment:1.0 true 6
	// 0
}

func ExamplePull() {
	registry, stop := startRegistry()
	defer stop()
	dev, pkg, done := packed("1.0")
	defer done()
	ctx := context.Background()
	if _, err := axon.Push(ctx, pkg.Ref, registry, axon.WithHome(dev)); err != nil {
		log.Fatal(err)
	}
	// Another machine, another store: pull by the package name.
	prod, done2 := tempHome()
	defer done2()
	res, err := axon.Pull(ctx, "examples/tiny-sentiment@1.0", axon.WithHome(prod), axon.WithRegistry(registry))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Descriptor.Digest == pkg.Digest())
	entries, err := axon.List(ctx, "", axon.WithHome(prod))
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(strings.Replace(e.Ref, registry, "REGISTRY", 1))
	}
	// Output:
	// true
	// REGISTRY/examples/tiny-sentiment:1.0
	// examples/tiny-sentiment@1.0
}

func ExampleInstall() {
	home, done := tempHome()
	defer done()
	// A local directory is installed like a hub model: ONNX as shipped.
	res, err := axon.Install(context.Background(), "./"+example, axon.WithHome(home), axon.WithName("examples/tiny-sentiment"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Backend, res.Manifest.Task)
	// Output:
	// passthrough text-classification
}

// signed packs the example into a new store, pushes it to registry and signs
// it with a new key pair; it returns the store, the package and the public
// key's file, and done, which removes the store.
func signed(registry string) (home string, pkg *axon.Package, pubFile string, done func()) {
	home, pkg, done = packed("1.0")
	ctx := context.Background()
	opts := []axon.Option{axon.WithHome(home)}
	if _, err := axon.Push(ctx, pkg.Ref, registry, opts...); err != nil {
		log.Fatal(err)
	}
	priv, pub, err := axon.GenerateKeyPair([]byte("secret"))
	if err != nil {
		log.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, "cosign.key"), priv, 0o600)
	os.WriteFile(filepath.Join(home, "cosign.pub"), pub, 0o644)
	key, err := axon.ReadSigningKey(filepath.Join(home, "cosign.key"), []byte("secret"))
	if err != nil {
		log.Fatal(err)
	}
	// The local name works: the store knows where the package was pushed.
	if _, err := axon.Sign(ctx, pkg.Ref, key, opts...); err != nil {
		log.Fatal(err)
	}
	return home, pkg, filepath.Join(home, "cosign.pub"), done
}

func ExampleSign() {
	registry, stop := startRegistry()
	defer stop()
	home, pkg, _, done := signed(registry)
	defer done()
	key, err := axon.ReadSigningKey(filepath.Join(home, "cosign.key"), []byte("secret"))
	if err != nil {
		log.Fatal(err)
	}
	// Signing again is harmless; the result names what was signed, by digest.
	res, err := axon.Sign(context.Background(), pkg.Ref, key, axon.WithHome(home))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Reference == registry+"/examples/tiny-sentiment@"+pkg.Digest().String(), res.Tag == "sha256-"+pkg.Digest().Encoded()+".sig")
	// Output: true true
}

func ExampleVerify() {
	registry, stop := startRegistry()
	defer stop()
	_, pkg, pubFile, done := signed(registry)
	defer done()
	pub, err := axon.ReadPublicKey(pubFile)
	if err != nil {
		log.Fatal(err)
	}
	sigs, desc, err := axon.Verify(context.Background(), registry+"/examples/tiny-sentiment:1.0", []*axon.PublicKey{pub})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(sigs), desc.Digest == pkg.Digest())
	// Output: 1 true
}

func ExamplePrune() {
	home, _, done := packed("")
	defer done()
	ctx := context.Background()
	opts := []axon.Option{axon.WithHome(home)}
	if _, err := axon.Remove(ctx, []string{"examples/tiny-sentiment@latest"}, opts...); err != nil {
		log.Fatal(err)
	}
	// Remove deleted the package already; nothing is left to prune.
	rep, err := axon.Prune(ctx, opts...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Blobs)
	// Output: 0
}

func ExampleResolve() {
	home, _, done := packed("")
	defer done()
	ctx := context.Background()
	desc, err := axon.Resolve(ctx, "examples/tiny-sentiment@latest", axon.WithHome(home))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(desc.ArtifactType)
	_, err = axon.Resolve(ctx, "examples/tiny-sentiment@2.0", axon.WithHome(home))
	fmt.Println(errors.Is(err, axon.ErrNotFound))
	// Output:
	// application/vnd.axon.model.v1
	// true
}

// Login keeps the credentials in docker's store ($DOCKER_CONFIG), shared
// with docker and oras; compiled, not run, so as not to touch yours.
func ExampleLogin() {
	ctx := context.Background()
	if err := axon.Login(ctx, "registry.example.com", "me", os.Getenv("REGISTRY_TOKEN")); err != nil {
		log.Fatal(err)
	}
	if _, err := axon.Push(ctx, "team/bert@1.0", "registry.example.com/team/bert:1.0"); err != nil {
		log.Fatal(err)
	}
}

// Served and Unregister drive a running mlosd; compiled, not run.
func ExampleServed() {
	ctx := context.Background()
	mlosd := axon.WithMLOSURL("http://localhost:8080")
	models, err := axon.Served(ctx, mlosd)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range models {
		fmt.Println(m.Name, m.State, m.Digest)
		if err := axon.Unregister(ctx, m.Name, mlosd); err != nil {
			log.Fatal(err)
		}
	}
}

// Register needs a running mlosd (WithMLOSURL, $MLOS_URL or
// http://localhost:8080), so this example is compiled, not run; the
// out-of-module test in test/goapi runs the same calls against a real one.
func ExampleRegister() {
	ctx := context.Background()
	reg, err := axon.Register(ctx, "examples/tiny-sentiment@1.0", axon.WithMLOSURL("http://localhost:8080"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reg.Model.Name, reg.Model.State, reg.Ref)
}

func ExampleRegistrationRef() {
	home, pkg, done := packed("")
	defer done()
	// Never pushed: mlosd on this machine reads the store's OCI layout, by digest.
	ref, err := axon.RegistrationRef(context.Background(), pkg.Ref, axon.WithHome(home))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ref == axon.LayoutScheme+home+"@"+pkg.Digest().String())
	// Output: true
}
