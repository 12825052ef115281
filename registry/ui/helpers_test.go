package ui

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/registry/ui/uitest"
)

// env is a real OCI layout with packages in it, and a UI over it.
type env struct {
	t   *testing.T
	ctx context.Context
	src *LayoutSource
	ui  *UI
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	src, err := NewLayoutSource(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, src: src}
}

// start builds the UI; its seed reads whatever was pushed so far.
func (e *env) start(opts Options) *UI {
	e.t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(e.t.Output(), nil)) // shown only when a test fails
	}
	u, err := New(e.src, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { u.Close() })
	e.ui = u
	e.sync()
	return u
}

func (e *env) sync() {
	e.t.Helper()
	if err := e.ui.Sync(e.ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) model(repo, tag string, m uitest.Model) ocispec.Descriptor {
	e.t.Helper()
	desc, _, err := uitest.BuildModel(e.ctx, e.src.Store, m)
	if err != nil {
		e.t.Fatal(err)
	}
	e.tag(desc, repo, tag)
	return desc
}

func (e *env) tag(desc ocispec.Descriptor, repo, tag string) {
	e.t.Helper()
	if err := e.src.Tag(e.ctx, desc, repo, tag); err != nil {
		e.t.Fatal(err)
	}
	if e.ui != nil {
		e.ui.Notify(Event{Action: ActionPush, Repository: repo, Tag: tag, Digest: desc.Digest})
	}
}

func (e *env) image(repo, tag, cmd string) ocispec.Descriptor {
	e.t.Helper()
	desc, err := uitest.BuildImage(e.ctx, e.src.Store, cmd)
	if err != nil {
		e.t.Fatal(err)
	}
	e.tag(desc, repo, tag)
	return desc
}

// modelPack packs dir with axon's own packer as the ModelPack acme/tiny:1 and tags it so.
func (e *env) modelPack(dir string) ocispec.Descriptor {
	e.t.Helper()
	desc, err := artifact.Pack(e.ctx, dir, e.src.Store, artifact.WithName("acme", "tiny"), artifact.WithVersion("1"), artifact.WithFormat(artifact.FormatModelPack))
	if err != nil {
		e.t.Fatal(err)
	}
	e.tag(desc, "acme/tiny", "1")
	return desc
}

// server serves the UI over HTTP like the registry does.
func (e *env) server(auth echo.MiddlewareFunc) *httptest.Server {
	e.t.Helper()
	ec := echo.New()
	ec.HideBanner = true
	e.ui.Register(ec, auth)
	s := httptest.NewServer(ec)
	e.t.Cleanup(s.Close)
	return s
}

// XSSDescription is a description that would change the page title if it ran.
const xssDescription = `Tiny <b>bold</b> classifier <script>document.title="pwned";window.__xss=1</script><img src=x onerror="document.title='pwned'">`

// seedTwo pushes the two packages most tests use, plus an image.
func (e *env) seedTwo() (bert, resnet ocispec.Descriptor) {
	bert = e.model("hf/bert-tiny", "v1", uitest.Model{
		Namespace: "hf", Name: "bert-tiny", Version: "v1", Task: "text-classification", License: "apache-2.0",
		Hub: "hf", ID: "prajjwal1/bert-tiny", Revision: "6f75de8b60a9f8a2fdf7b69cbd86d9e64bcb3837",
		Description: xssDescription, Labels: []string{"NEGATIVE", "POSITIVE"}, Seed: 1,
	})
	resnet = e.model("pytorch/resnet18", "v2", uitest.Model{
		Namespace: "pytorch", Name: "resnet18", Version: "v2", Task: "image-classification",
		Description: "A residual network.", Classes: 3, Seed: 2, Created: "2025-06-01T00:00:00Z",
	})
	e.image("library/alpine", "3.20", "/bin/sh")
	return bert, resnet
}
