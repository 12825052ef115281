// Command axon moves models from hubs into OCI packages and between the local
// store and any OCI registry. Every verb is a thin layer over a Go package
// (internal/artifact, internal/store, internal/transfer); other verbs register
// themselves from their own files with init() { rootCmd.AddCommand(...) }.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/version"
)

// rootCmd is the axon command; verbs add themselves to it.
var rootCmd = &cobra.Command{
	Use:   "axon",
	Short: "Package models as OCI artifacts and move them between hubs, registries and runtimes",
	Long: `axon installs models from Hugging Face, PyTorch Hub, TensorFlow Hub and ModelScope
(converted to ONNX), packages them as OCI artifacts (config manifest.yaml, one layer
per file) and moves them like container images: pack, push, pull, tag, ls, inspect,
rm, export, login. register hands a package to the mlosd runtime.

The local store is an OCI image layout at $AXON_HOME (default ~/.axon).
Local packages are named NAMESPACE/NAME@VERSION (hf/bert-base-uncased@latest);
registry references are HOST[:PORT]/REPOSITORY[:TAG|@DIGEST].`,
	Version:       version.String(),
	SilenceUsage:  true,
	SilenceErrors: true,
}

// globals are the persistent flags.
var globals struct {
	home string
}

func init() {
	rootCmd.PersistentFlags().StringVar(&globals.home, "home", "", "local store directory (env AXON_HOME, default ~/.axon)")
	rootCmd.SetVersionTemplate("axon {{.Version}}\n")
}

// openStore opens the local store named by --home / AXON_HOME.
func openStore() (*store.Store, error) {
	return store.Open(globals.home)
}

// withUsage makes a wrong argument count or an unknown flag say how the verb
// is used, as docker does, instead of cobra's bare "accepts 1 arg(s)".
func withUsage(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return fmt.Errorf("%s: %v; usage: %s", verbName(cmd), err, cmd.UseLine())
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		withUsage(sub)
	}
}

func verbName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), rootCmd.Name()+" ")
}

func main() {
	addHabits(rootCmd)
	withUsage(rootCmd)
	rootCmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see %s --help)", verbName(cmd), err, cmd.CommandPath())
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := rootCmd.ExecuteContext(ctx)
	interrupted := ctx.Err() != nil // before stop(), which cancels ctx too
	stop()
	if err != nil {
		msg := oneLine(err)
		if strings.HasPrefix(msg, "unknown command") {
			msg += " (see axon --help)"
		}
		fmt.Fprintln(os.Stderr, "axon: "+msg)
		// ctx.Err(), not only the error chain: some I/O reports the signal
		// as its cause ("interrupt signal received") without context.Canceled.
		if errors.Is(err, context.Canceled) || interrupted {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

// ifInterrupted words err as msg when ctx was cancelled (ctrl-C): what stopped
// and how to go on, rather than whichever I/O call noticed first
// ("pack /tmp/...: config.json: context canceled"). errors.Is still sees err.
func ifInterrupted(ctx context.Context, err error, msg string) error {
	if ctx.Err() == nil {
		return err
	}
	return &worded{msg: msg, err: err}
}

type worded struct {
	msg string
	err error
}

func (w *worded) Error() string { return w.msg }
func (w *worded) Unwrap() error { return w.err }

// oneLine keeps an error to one line for users.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}
