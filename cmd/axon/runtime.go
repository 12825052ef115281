package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/runtime/api"
	"github.com/mlos-foundation/axon/runtime/client"
)

// The runtime verbs drive mlosd over HTTP (MLOS_URL, default http://localhost:8080).
var psJSON bool

var runtimeFlags struct {
	url  string
	name string
}

func init() {
	register := &cobra.Command{
		Use:   "register REF",
		Short: "Have mlosd pull a package by digest and serve it",
		Long: `register asks mlosd to pull a package by digest, load it and serve it.

REF is a local package (NAMESPACE/NAME@VERSION): it registers by digest, from the
registry it was pushed to (HOST/REPO@sha256:...) or, when never pushed, straight
from the local store (oci-layout://$AXON_HOME@sha256:..., mlosd on the same machine).
REF may also be an OCI reference (HOST/REPO:TAG, HOST/REPO@sha256:...) or
oci-layout://PATH[:TAG|@sha256:...]; tags are resolved to a digest by mlosd.`,
		Example: `  axon register hf/bert-base-uncased@latest
  axon register localhost:5000/hf/bert-base-uncased:latest
  MLOS_URL=http://mlosd:8080 axon register registry.example.com/hf/bert@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := registrationRef(cmd, args[0])
			if err != nil {
				return err
			}
			info, err := client.New(runtimeFlags.url).Register(cmd.Context(), ref, runtimeFlags.name)
			if err != nil {
				return fmt.Errorf("register %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered %s (%s) from %s\n", info.Name, info.Digest, ref)
			return nil
		},
	}
	register.Flags().StringVar(&runtimeFlags.name, "name", "", "serve under this name (default: the package's NAMESPACE/NAME)")

	unregister := &cobra.Command{
		Use:   "unregister NAME",
		Short: "Stop serving a model in mlosd",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := client.New(runtimeFlags.url).Unregister(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("unregister %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "unregistered %s\n", args[0])
			return nil
		},
	}

	ps := &cobra.Command{
		Use:   "ps",
		Short: "List the models mlosd serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			models, err := client.New(defaultMLOSURL(runtimeFlags.url)).List(cmd.Context())
			if err != nil {
				return err
			}
			if psJSON {
				return writeJSON(cmd.OutOrStdout(), psView(models))
			}
			printStarted(cmd.ErrOrStderr())
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tVERSION\tSTATE\tTASK\tDIGEST\tREF")
			for _, m := range models {
				state := m.State
				if m.Error != "" {
					state += ": " + m.Error
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Version, state, m.Task, m.Digest[:min(len(m.Digest), 19)], m.Ref)
			}
			return w.Flush()
		},
	}
	ps.Flags().BoolVar(&psJSON, "json", false, "print JSON (the models, and the mlosd axon run started)")
	for _, c := range []*cobra.Command{register, unregister, ps} {
		c.Flags().StringVar(&runtimeFlags.url, "mlos-url", "", "mlosd address (env "+client.EnvURL+", default "+client.DefaultURL+")")
		rootCmd.AddCommand(c)
	}
}

// registrationRef turns what the user typed into a reference mlosd can pull
// by digest: a package in the local store becomes its registry digest when it
// was pushed, else the store's OCI layout; anything else passes through.
func registrationRef(cmd *cobra.Command, ref string) (string, error) {
	if strings.HasPrefix(ref, api.LayoutScheme) {
		return ref, nil
	}
	st, err := openStore()
	if err == nil {
		desc, rerr := st.Resolve(cmd.Context(), ref)
		if rerr == nil {
			if remotes := st.Remotes(desc.Digest); len(remotes) > 0 {
				return remotes[0] + "@" + desc.Digest.String(), nil
			}
			return api.LayoutScheme + st.Path() + "@" + desc.Digest.String(), nil
		}
		if !errors.Is(rerr, store.ErrNotFound) && !looksRemote(ref) {
			return "", rerr
		}
	}
	if looksRemote(ref) {
		return ref, nil
	}
	if err != nil {
		return "", fmt.Errorf("open local store: %w", err)
	}
	return "", fmt.Errorf("%s: %w; nor is it a registry reference (HOST/REPO:TAG)", ref, store.ErrNotFound)
}

// looksRemote reports whether ref starts with a registry host (a dot, a port or localhost).
func looksRemote(ref string) bool {
	host, _, ok := strings.Cut(ref, "/")
	return ok && (strings.ContainsAny(host, ".:") || host == "localhost")
}
