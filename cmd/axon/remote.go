package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mlos-foundation/axon"
	"github.com/mlos-foundation/axon/internal/progress"
)

// remoteFlags are the flags of every verb that talks to a registry.
type remoteFlags struct {
	plainHTTP   bool
	insecure    bool
	tlsVerify   bool
	caFile      string
	concurrency int
	quiet       bool
	json        bool
}

func (f *remoteFlags) add(cmd *cobra.Command, transfers bool) {
	cmd.Flags().BoolVar(&f.plainHTTP, "plain-http", false, "use HTTP instead of HTTPS (automatic for localhost and 127.0.0.1)")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "skip TLS certificate verification")
	cmd.Flags().BoolVar(&f.tlsVerify, "tls-verify", true, "verify TLS certificates (--tls-verify=false is --insecure, as in podman and skopeo)")
	cmd.Flags().StringVar(&f.caFile, "ca-file", "", "PEM file of certificate authorities to trust besides the system's")
	if transfers {
		cmd.Flags().IntVar(&f.concurrency, "concurrency", axon.DefaultConcurrency, "number of files moved at once")
		cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "print only the result")
		cmd.Flags().BoolVar(&f.json, "json", false, "print the result as JSON (reference, digest, blobs moved)")
	}
}

func (f *remoteFlags) options(out io.Writer) []axon.Option {
	return []axon.Option{
		axon.WithPlainHTTP(f.plainHTTP),
		axon.WithInsecure(f.insecure || !f.tlsVerify),
		axon.WithCAFile(f.caFile),
		axon.WithConcurrency(f.concurrency),
		axon.WithProgress(progressFor(out, f.quiet)),
	}
}

// progressFor shows bars only when stdout is a terminal too, as docker does:
// `axon pull X > log` gets plain lines.
func progressFor(out io.Writer, quiet bool) progress.Reporter {
	if !quiet && out != nil && !term.IsTerminal(int(os.Stdout.Fd())) {
		return progress.Plain(out)
	}
	return progress.New(out, quiet)
}

// NewCmdPush is axon push.
func NewCmdPush(o *Options) *cobra.Command {
	var f remoteFlags
	var format string
	cmd := &cobra.Command{
		Use:   "push REF [TARGET]",
		Short: "Push a package from the local store to an OCI registry",
		Long: `Push the package REF to TARGET (HOST[:PORT]/REPOSITORY[:TAG]; the tag defaults to
the package version). A bare HOST[:PORT] pushes under the package's own name;
without TARGET the package goes to $AXON_REGISTRY (default localhost:5000) as
NAMESPACE/NAME:VERSION. Blobs the registry already has are not sent again.
--format modelpack pushes it as a CNCF ModelPack artifact (ModelPack config,
the same files as layers, manifest.yaml among them) that modctl, KitOps and
Docker Model Runner read; the same package always gives the same digest.
--format axon turns such a ModelPack back into the axon package it came from.`,
		Example: "  axon push hf/bert-base-uncased@latest\n  axon push hf/bert@1.0 registry.example.com/team/bert:1.0",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 2 {
				target = args[1]
			}
			res, err := axon.Push(cmd.Context(), args[0], target, o.api(append(f.options(cmd.ErrOrStderr()), axon.WithFormat(format))...)...)
			if err != nil {
				return ifInterrupted(cmd.Context(), err, "push "+args[0]+": interrupted; push again to finish (blobs already sent are skipped)")
			}
			if f.json {
				return writeJSON(cmd.OutOrStdout(), resultView(res))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s@%s\n", res.Ref, res.Descriptor.Digest)
			if !f.quiet {
				report(cmd.ErrOrStderr(), "pushed", "already there", res)
			}
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().StringVar(&format, "format", "", "convert to this artifact format: axon (manifest.yaml as config) or modelpack (CNCF ModelPack); default: as stored")
	return cmd
}

// NewCmdPull is axon pull.
func NewCmdPull(o *Options) *cobra.Command {
	var f remoteFlags
	cmd := &cobra.Command{
		Use:   "pull TARGET",
		Short: "Pull a package from an OCI registry into the local store",
		Long: `Pull TARGET (HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]) into the local store, tagged
with TARGET. A package name (NAMESPACE/NAME@VERSION) is pulled from $AXON_REGISTRY
(default localhost:5000) and keeps its name. Blobs are verified against their
digests before use; an interrupted pull continues where it stopped. Model artifacts
of other tools are pulled too: CNCF ModelPack (and its CNAI names), KitOps ModelKits
and Docker Model Runner models; any other artifact is refused with a list of what
it holds.`,
		Example: "  axon pull localhost:5000/hf/bert-base-uncased:latest\n  axon pull hf/bert-base-uncased@latest",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := axon.Pull(cmd.Context(), args[0], o.api(f.options(cmd.ErrOrStderr())...)...)
			if err != nil {
				return ifInterrupted(cmd.Context(), err, "pull "+args[0]+": interrupted; run the same pull again to resume")
			}
			// A pull by digest already names it.
			pinned := res.Ref
			if !strings.Contains(pinned, "@") {
				pinned += "@" + res.Descriptor.Digest.String()
			}
			if f.json {
				return writeJSON(cmd.OutOrStdout(), resultView(res))
			}
			fmt.Fprintln(cmd.OutOrStdout(), pinned)
			if !f.quiet {
				report(cmd.ErrOrStderr(), "pulled", "already here", res)
			}
			return nil
		},
	}
	f.add(cmd, true)
	return cmd
}

// NewCmdLogin is axon login.
func NewCmdLogin(o *Options) *cobra.Command {
	var f remoteFlags
	var user, pass string
	var passStdin bool
	cmd := &cobra.Command{
		Use:   "login REGISTRY",
		Short: "Log in to a registry (credentials kept the docker way)",
		Long: `Check the credentials against REGISTRY and keep them where docker keeps them:
the credential helper or store named in ~/.docker/config.json ($DOCKER_CONFIG), else the file itself.`,
		Example: "  echo \"$TOKEN\" | axon login registry.example.com -u me --password-stdin",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if passStdin {
				if pass != "" {
					return errors.New("login: give --password or --password-stdin, not both")
				}
				b, err := io.ReadAll(bufio.NewReader(cmd.InOrStdin()))
				if err != nil {
					return fmt.Errorf("read password: %w", err)
				}
				pass = strings.TrimRight(string(b), "\r\n")
				if pass == "" {
					return errors.New("login: --password-stdin read an empty password; pipe it in: echo \"$TOKEN\" | axon login REGISTRY -u USER --password-stdin")
				}
			}
			if user == "" {
				return errors.New("login: give the user name with --username (-u)")
			}
			if pass == "" {
				in, isFile := cmd.InOrStdin().(*os.File)
				if !isFile || !term.IsTerminal(int(in.Fd())) {
					return errors.New("login: no terminal to ask for the password; give --password-stdin (or --password)")
				}
				fmt.Fprint(cmd.ErrOrStderr(), "Password: ")
				b, err := term.ReadPassword(int(in.Fd()))
				fmt.Fprintln(cmd.ErrOrStderr())
				if err != nil {
					return fmt.Errorf("read password: %w", err)
				}
				pass = string(b)
			}
			if err := axon.Login(cmd.Context(), args[0], user, pass, f.options(nil)...); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Login Succeeded")
			return nil
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVarP(&user, "username", "u", "", "user name")
	cmd.Flags().StringVarP(&pass, "password", "p", "", "password (prefer --password-stdin)")
	cmd.Flags().BoolVar(&passStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

// NewCmdLogout is axon logout.
func NewCmdLogout(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:     "logout REGISTRY",
		Short:   "Forget the credentials of a registry",
		Long:    "Remove the credentials of REGISTRY from where axon login (or docker login) kept them.",
		Example: "  axon logout registry.example.com",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := axon.Logout(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed login credentials for %s\n", args[0])
			return nil
		},
	}
}

func report(w io.Writer, verb, there string, res *axon.Result) {
	if res.Blobs == 0 {
		fmt.Fprintf(w, "up to date (%s)\n", res.Elapsed.Round(1e7))
		return
	}
	fmt.Fprintf(w, "%s %d blobs (%s), %d %s, in %s\n", verb, res.Blobs, progress.Bytes(res.Bytes), res.Skipped, there, res.Elapsed.Round(1e7))
}
