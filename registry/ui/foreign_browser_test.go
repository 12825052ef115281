package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/artifact/artifacttest"
	"github.com/mlos-foundation/axon/schemas"
)

// TestBrowserModelPack: the model page of a ModelPack that carries
// manifest.yaml (axon pack --format modelpack) shows, in a real browser, the
// I/O schema that manifest.yaml holds, row for row, and the files with their
// sizes; a ModelKit without one shows its files and an empty schema table.
func TestBrowserModelPack(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t)
	dir := artifacttest.ModelDir(t, 7)
	desc := e.modelPack(dir)
	pkg, err := artifact.Read(e.ctx, e.src.Store, desc)
	if err != nil || pkg.Format != artifact.FormatModelPack || pkg.EmbeddedManifest == nil {
		t.Fatalf("not a ModelPack with manifest.yaml inside: %v", err)
	}
	var want []string
	for _, in := range pkg.Manifest.IO.Inputs {
		want = append(want, fmt.Sprintf("input %s %s [%s]", in.Name, in.DType, shapeText(in.Shape)))
	}
	for _, out := range pkg.Manifest.IO.Outputs {
		want = append(want, fmt.Sprintf("output %s %s [%s]", out.Name, out.DType, shapeText(out.Shape)))
	}
	if len(want) < 2 {
		t.Fatalf("the package's I/O schema is %v", want)
	}
	kit, extra := artifacttest.ModelKit("kit-tiny")
	extra(t, dir)
	kd := artifacttest.Push(t, e.ctx, untagged{e.src.Store}, "x", dir, kit)
	e.tag(kd, "kits/tiny", "1")
	e.start(Options{})
	srv := e.server(nil)

	b.do("open the ModelPack", chromedp.Navigate(srv.URL+repoURL("acme/tiny")), chromedp.WaitVisible(chromedp.CSS("#io-schema")))
	rows := eval[[]string](b, `[...document.querySelectorAll("#io-schema tbody tr")].map(r => r.innerText.replace(/\s+/g, " ").trim())`)
	if strings.Join(rows, "|") != strings.Join(want, "|") {
		t.Fatalf("I/O schema rows of the ModelPack:\n%q\nwant\n%q", rows, want)
	}
	files := eval[string](b, `document.querySelector("#files").innerText`)
	for _, f := range pkg.Manifest.Files {
		if !strings.Contains(files, f.Path) {
			t.Errorf("the files table lacks %s:\n%s", f.Path, files)
		}
	}
	if facts := eval[string](b, `document.querySelector("#facts").innerText`); !strings.Contains(facts, "acme/tiny") || !strings.Contains(facts, "onnx") {
		t.Errorf("facts of the ModelPack:\n%s", facts)
	}
	b.screenshot("modelpack")

	b.do("open the ModelKit", chromedp.Navigate(srv.URL+repoURL("kits/tiny")), chromedp.WaitVisible(chromedp.CSS("#files")))
	files = eval[string](b, `document.querySelector("#files").innerText`)
	for _, f := range []string{"model.onnx", "tokenizer.json", "README.md"} {
		if !strings.Contains(files, f) {
			t.Errorf("the ModelKit's files table lacks %s:\n%s", f, files)
		}
	}
}

// shapeText writes a shape as the page does: dims joined by ", ".
func shapeText(dims []schemas.Dim) string {
	var s []string
	for _, d := range dims {
		s = append(s, d.String())
	}
	return strings.Join(s, ", ")
}
