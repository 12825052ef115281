package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/mlos/client"
)

// The runtime verbs drive mlosd over HTTP (MLOS_URL, default http://localhost:8080).

func mlosURLFlag(c *cobra.Command, url *string) {
	c.Flags().StringVar(url, "mlos-url", "", "mlosd address (env "+client.EnvURL+", default "+client.DefaultURL+")")
}

// NewCmdRegister is axon register.
func NewCmdRegister(o *Options) *cobra.Command {
	var url, name string
	cmd := &cobra.Command{
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
			reg, err := axon.Register(cmd.Context(), args[0], o.api(axon.WithMLOSURL(url), axon.WithName(name))...)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered %s (%s) from %s\n", reg.Model.Name, reg.Model.Digest, reg.Ref)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "serve under this name (default: the package's NAMESPACE/NAME)")
	mlosURLFlag(cmd, &url)
	return cmd
}

// NewCmdUnregister is axon unregister.
func NewCmdUnregister(o *Options) *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "unregister NAME",
		Short: "Stop serving a model in mlosd",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := axon.Unregister(cmd.Context(), args[0], o.api(axon.WithMLOSURL(url))...); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "unregistered %s\n", args[0])
			return nil
		},
	}
	mlosURLFlag(cmd, &url)
	return cmd
}

// NewCmdPs is axon ps.
func NewCmdPs(o *Options) *cobra.Command {
	var url string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List the models mlosd serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			models, err := axon.Served(cmd.Context(), o.api(axon.WithMLOSURL(defaultMLOSURL(o, url)))...)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), psView(o, models))
			}
			printStarted(o, cmd.ErrOrStderr())
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
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (the models, and the mlosd axon run started)")
	mlosURLFlag(cmd, &url)
	return cmd
}
