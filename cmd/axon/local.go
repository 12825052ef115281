package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/internal/progress"
)

// NewCmdPack is axon pack.
func NewCmdPack(o *Options) *cobra.Command {
	var name, ver, format string
	var whole []string
	cmd := &cobra.Command{
		Use:   "pack DIR",
		Short: "Package a model directory into the local store",
		Long: `Package DIR (model.onnx plus its other files) as an axon package in the local
store and tag it NAMESPACE/NAME@VERSION. DIR/manifest.yaml is used when present
(and validated); otherwise it is generated, with the I/O schema read from model.onnx.
Packing the same directory twice gives the same digest.`,
		Example: "  axon pack ./bert --name hf/bert-base-uncased --version 1.0",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := axon.Pack(cmd.Context(), args[0], o.api(axon.WithName(name), axon.WithVersion(ver), axon.WithWholeDirs(whole...), axon.WithFormat(format))...)
			if err != nil {
				return ifInterrupted(cmd.Context(), err, "pack "+args[0]+": interrupted; nothing was tagged (axon prune clears what was stored)")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\n", p.Ref, p.Descriptor.Digest, progress.Bytes(p.Manifest.Resources.Bytes))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "package name NAMESPACE/NAME (default: from manifest.yaml)")
	cmd.Flags().StringVar(&ver, "version", "", "package version (default: from manifest.yaml, else latest)")
	cmd.Flags().StringSliceVar(&whole, "whole-dir", nil, "directory (relative to DIR) to keep whole as one tar layer")
	cmd.Flags().StringVar(&format, "format", "axon", "artifact format: axon (manifest.yaml as config) or modelpack (CNCF ModelPack, manifest.yaml as a layer)")
	return cmd
}

// NewCmdList is axon ls.
func NewCmdList(o *Options) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "ls [REPOSITORY]",
		Aliases: []string{"list", "images"},
		Short:   "List the packages in the local store",
		Long: `List every reference in the local store (or only REPOSITORY's) with its version (tag), digest, total
size, format, task and creation time (the source revision's time; - when unknown).
--json prints the full entries, manifest.yaml included.`,
		Example: "  axon ls\n  axon ls hf/bert-base-uncased\n  axon ls --json | jq -r '.[].digest'",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo := ""
			if len(args) == 1 {
				repo = args[0]
			}
			entries, err := axon.List(cmd.Context(), repo, o.api()...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if entries == nil {
					entries = []axon.Entry{} // [] rather than null for JSON readers
				}
				return writeJSON(out, entries)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tDIGEST\tSIZE\tFORMAT\tTASK\tCREATED")
			for _, e := range entries {
				format, task := "-", "-"
				if m := e.Manifest; m != nil {
					format = m.Format.Name
					if m.Format.Opset > 0 {
						format = fmt.Sprintf("%s (opset %d)", m.Format.Name, m.Format.Opset)
					}
					if m.Task != "" {
						task = m.Task
					}
					switch e.Artifact {
					case axon.ArtifactTypeModelPack, axon.ArtifactTypeModelPackLegacy:
						format += " (ModelPack)"
					case axon.ArtifactTypeKit:
						format += " (ModelKit)"
					}
				} else if e.Artifact != "" {
					format = e.Artifact
				}
				created := e.Created
				// A package without a source revision has its creation time
				// pinned to the epoch (reproducible digests): no real date.
				if created == "" || strings.HasPrefix(created, "1970-01-01T00:00:00") {
					created = "-"
				}
				tag := e.Tag
				if tag == "" {
					tag = "<none>"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Repository, tag, shortDigest(e.Digest.String()), progress.Bytes(e.Size), format, task, created)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// NewCmdInspect is axon inspect.
func NewCmdInspect(o *Options) *cobra.Command {
	var asJSON bool
	var f remoteFlags
	cmd := &cobra.Command{
		Use:   "inspect REF",
		Short: "Show a package's manifest.yaml and OCI manifest (local, or in a registry)",
		Long: `Show the manifest.yaml and OCI manifest of REF from the local store or, when the
store does not hold it and REF names a registry, from the registry without pulling.`,
		Example: "  axon inspect hf/bert-base-uncased@latest\n  axon inspect --json localhost:5000/hf/bert-base-uncased:latest",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pkg, err := axon.Inspect(cmd.Context(), args[0], o.api(f.options(nil)...)...)
			if err != nil {
				return err
			}
			from := pkg.From
			out := cmd.OutOrStdout()
			if asJSON {
				remotes := pkg.Remotes // [] rather than null for JSON readers
				v := map[string]any{
					"ref":      args[0],
					"from":     from,
					"format":   pkg.Format,
					"digest":   pkg.Descriptor.Digest,
					"manifest": pkg.Manifest,
					"oci":      json.RawMessage(pkg.RawOCI),
					"remotes":  remotes,
					// null unless a text-generation package: KV cache, chat template, OpenAI call.
					"textGeneration": pkg.Manifest.TextGenerationInfo(mlosURL()),
				}
				if pkg.Foreign != nil {
					v["foreign"] = pkg.Foreign
					v["config"] = json.RawMessage(pkg.RawConfig)
				}
				return writeJSON(out, v)
			}
			if pkg.Foreign != nil {
				return printForeign(out, args[0], from, pkg, pkg.Remotes)
			}
			fmt.Fprintf(out, "# %s (%s)\n# digest: %s\n", args[0], from, pkg.Descriptor.Digest)
			for _, r := range pkg.Remotes {
				fmt.Fprintf(out, "# in registry: %s\n", r) // pushed there or pulled from there
			}
			printTextGeneration(out, pkg.Manifest)
			fmt.Fprintf(out, "# --- manifest.yaml ---\n%s", pkg.RawConfig)
			var pretty any
			json.Unmarshal(pkg.RawOCI, &pretty)
			b, _ := json.MarshalIndent(pretty, "", "  ")
			fmt.Fprintf(out, "# --- OCI manifest (%s) ---\n%s\n", pkg.Descriptor.MediaType, b)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	f.add(cmd, false)
	return cmd
}

// NewCmdTag is axon tag.
func NewCmdTag(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "tag SRC DST",
		Short:   "Give a stored package another name",
		Example: "  axon tag hf/bert@1.0 team/bert@prod\n  axon tag hf/bert@1.0 registry.example.com/team/bert:1.0",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return axon.Tag(cmd.Context(), args[0], args[1], o.api()...)
		},
	}
}

// NewCmdRemove is axon rm.
func NewCmdRemove(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "rm REF...",
		Aliases: []string{"rmi", "remove"},
		Short:   "Remove packages from the local store",
		Long:    "Remove references; a package no reference names any more is deleted with the blobs no other package uses.",
		Example: "  axon rm hf/bert-base-uncased@latest\n  axon rm localhost:5000/hf/bert:1.0 sha256:...",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			removed, err := axon.Remove(cmd.Context(), args, o.api()...)
			for _, ref := range removed {
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s\n", ref)
			}
			return err
		},
	}
}

// NewCmdPrune is axon prune.
func NewCmdPrune(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Delete untagged packages, unreferenced blobs and partial downloads",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := axon.Prune(cmd.Context(), o.api()...)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d blobs, reclaimed %s\n", rep.Blobs, progress.Bytes(rep.Bytes))
			return nil
		},
	}
}

// NewCmdExport is axon export.
func NewCmdExport(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "export REF DIR",
		Short: "Write a package's files into a directory, by name",
		Long: `Write the files of REF, manifest.yaml included, under DIR (created when missing),
each verified against its digest. Files of the same name in DIR are replaced
(and a directory packed whole, such as a SavedModel, replaces the directory of
that name); other files stay. The result packs again to the same digest.
A ModelPack, ModelKit or Docker model artifact writes its own files (tar
layers unpacked where their paths say), without a manifest.yaml unless it
carries one.`,
		Example: "  axon export hf/bert-base-uncased@latest ./bert",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := axon.Export(cmd.Context(), args[0], args[1], o.api()...); err != nil {
				return ifInterrupted(cmd.Context(), err, "export "+args[0]+": interrupted; the files written so far are complete, run it again for the rest")
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %s to %s\n", args[0], args[1])
			return nil
		},
	}
}
