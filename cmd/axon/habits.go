package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/progress"
	"github.com/mlos-foundation/axon/internal/transfer"
	"github.com/mlos-foundation/axon/runtime/api"
)

// The habits people bring from docker, oras and kit: shell completion of
// local package names on every verb that takes one.

// localRefVerbs take a local package as their first argument (tag, export:
// only the first).
var localRefVerbs = map[string]bool{
	"inspect": true, "push": true, "rm": true, "tag": true, "export": true, "register": true, "run": true,
}

// addHabits wires completion into the verbs once they are all registered.
func addHabits(root *cobra.Command) {
	for _, c := range root.Commands() {
		if !localRefVerbs[c.Name()] || c.ValidArgsFunction != nil {
			continue
		}
		many := c.Name() == "rm"
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 && !many {
				return nil, cobra.ShellCompDirectiveDefault
			}
			return completeLocal(cmd, toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
}

// completeLocal lists the store's references that start with prefix, each
// with its format and size as the description shells show.
func completeLocal(cmd *cobra.Command, prefix string) []string {
	st, err := openStore()
	if err != nil {
		return nil
	}
	entries, err := st.List(cmd.Context())
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Ref, prefix) {
			continue
		}
		desc := progress.Bytes(e.Size)
		if e.Manifest != nil && e.Manifest.Task != "" {
			desc = e.Manifest.Task + ", " + desc
		}
		out = append(out, e.Ref+"\t"+desc)
	}
	sort.Strings(out)
	return out
}

// printForeign is inspect's text view of a ModelPack, ModelKit or Docker model.
func printForeign(out io.Writer, ref, from string, pkg *artifact.Package, remotes []string) error {
	f := pkg.Foreign
	fmt.Fprintf(out, "# %s (%s)\n# digest: %s\n# format: %s\n", ref, from, pkg.Descriptor.Digest, artifact.FormatTitle(pkg.Format))
	for _, r := range remotes {
		fmt.Fprintf(out, "# in registry: %s\n", r)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("name", f.Name)
	row("version", f.Version)
	row("model format", f.ModelFormat)
	row("architecture", f.Architecture)
	row("parameters", f.ParamSize)
	row("precision", f.Precision)
	row("quantization", f.Quantization)
	row("license", f.License)
	serve := "no: axon install oci://REF converts it"
	if f.HasONNX() {
		serve = "yes (ONNX)"
	}
	row("mlosd serves it", serve)
	tw.Flush()
	fmt.Fprintln(out, "# --- files ---")
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PATH\tKIND\tARCHIVE\tSIZE\tDIGEST")
	for _, x := range f.Files {
		arch := x.Archive
		if arch == "" {
			arch = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", x.Path, x.Kind, arch, progress.Bytes(x.Size), shortDigest(x.Digest))
	}
	tw.Flush()
	if pkg.EmbeddedManifest != nil {
		fmt.Fprintf(out, "# --- manifest.yaml (carried as a layer) ---\n%s", pkg.EmbeddedManifest)
	}
	var pretty any
	if json.Unmarshal(pkg.RawConfig, &pretty) == nil {
		b, _ := json.MarshalIndent(pretty, "", "  ")
		fmt.Fprintf(out, "# --- config (%s) ---\n%s\n", pkg.OCI.Config.MediaType, b)
	}
	json.Unmarshal(pkg.RawOCI, &pretty)
	b, _ := json.MarshalIndent(pretty, "", "  ")
	fmt.Fprintf(out, "# --- OCI manifest (%s) ---\n%s\n", pkg.Descriptor.MediaType, b)
	return nil
}

// resultView is push/pull --json.
func resultView(res *transfer.Result) map[string]any {
	return map[string]any{
		"ref": res.Ref, "digest": res.Descriptor.Digest, "mediaType": res.Descriptor.MediaType, "artifactType": res.Descriptor.ArtifactType,
		"blobs": res.Blobs, "skipped": res.Skipped, "bytes": res.Bytes, "seconds": res.Elapsed.Seconds(),
	}
}

// psView is ps --json: what mlosd serves and the mlosd axon run started.
func psView(models []api.Info) map[string]any {
	if models == nil {
		models = []api.Info{}
	}
	v := map[string]any{"models": models}
	if s, ok := startedMLOSD(); ok {
		v["mlosd"] = s
	}
	return v
}

// printStarted says which mlosd axon run started, if one still runs.
func printStarted(w io.Writer) {
	if s, ok := startedMLOSD(); ok {
		fmt.Fprintf(w, "mlosd started by axon run: pid %d at %s (axon stop stops it)\n", s.PID, s.URL)
	}
}
