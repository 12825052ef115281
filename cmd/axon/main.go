// Command axon moves models from hubs into OCI packages and between the local
// store and any OCI registry. It is flags → call: New builds the command tree,
// one NewCmdX per verb, and every verb calls the public Go API
// (github.com/mlos-foundation/axon); what is left here is presentation
// (tables, JSON, progress bars, prompts) and axon run's process handling.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/internal/version"
)

// Options are the persistent flags every verb shares. Each New gets its own,
// so commands can be built and run many times in one process (the tests).
type Options struct {
	Home string // --home; "" = $AXON_HOME, else ~/.axon
}

// api is the public API's options for these flags, plus extra.
func (o *Options) api(extra ...axon.Option) []axon.Option {
	return append([]axon.Option{axon.WithHome(o.Home)}, extra...)
}

// New builds the axon command.
func New() *cobra.Command {
	o := &Options{}
	root := &cobra.Command{
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
	root.PersistentFlags().StringVar(&o.Home, "home", "", "local store directory (env AXON_HOME, default ~/.axon)")
	root.SetVersionTemplate("axon {{.Version}}\n")
	root.AddCommand(
		NewCmdPack(o), NewCmdList(o), NewCmdInspect(o), NewCmdTag(o), NewCmdRemove(o), NewCmdPrune(o), NewCmdExport(o),
		NewCmdPush(o), NewCmdPull(o), NewCmdLogin(o), NewCmdLogout(o),
		NewCmdInstall(o),
		NewCmdRegister(o), NewCmdUnregister(o), NewCmdPs(o), NewCmdRun(o), NewCmdStop(o),
		NewCmdSign(o), NewCmdVerify(o), NewCmdKeygen(o),
	)
	addHabits(root, o)
	withUsage(root)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see %s --help)", verbName(cmd), err, cmd.CommandPath())
	})
	return root
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
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// Main runs axon with args and returns the exit status: 0, 1 for an error
// (printed as one line on stderr), 130 when ctx was cancelled (ctrl-C).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := New()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	msg := oneLine(err)
	if strings.HasPrefix(msg, "unknown command") {
		msg += " (see axon --help)"
	}
	fmt.Fprintln(stderr, "axon: "+msg)
	// ctx.Err(), not only the error chain: some I/O reports the signal
	// as its cause ("interrupt signal received") without context.Canceled.
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return 130
	}
	return 1
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
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
