package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mlos-foundation/axon"
)

// keyPassword is $COSIGN_PASSWORD, else asked on the terminal (as cosign does).
func keyPassword(confirm bool) ([]byte, error) {
	if p, ok := os.LookupEnv(axon.EnvKeyPassword); ok {
		return []byte(p), nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return nil, fmt.Errorf("the key's password: set %s (no terminal to ask on)", axon.EnvKeyPassword)
	}
	fmt.Fprint(os.Stderr, "Enter password for private key: ")
	p, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil || !confirm {
		return p, err
	}
	fmt.Fprint(os.Stderr, "Enter password for private key again: ")
	q, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if string(p) != string(q) {
		return nil, errors.New("the passwords do not match")
	}
	return p, nil
}

// NewCmdSign is axon sign.
func NewCmdSign(o *Options) *cobra.Command {
	var f remoteFlags
	var keyPath string
	cmd := &cobra.Command{
		Use:   "sign REF --key cosign.key",
		Short: "Sign a package in a registry (cosign-compatible signature)",
		Long: `Sign the package REF (HOST[:PORT]/REPOSITORY[:TAG|@DIGEST], or a package of the local
store that was pushed) with an ECDSA P-256 key. A tag is resolved and the digest is
signed. The signature is cosign's simple signing format, stored in the same repository
as an OCI referrer of the package and under cosign's tag sha256-<digest>.sig, so
'cosign verify --key cosign.pub --insecure-ignore-tlog' accepts it. No transparency log.

KEY is a cosign key (cosign generate-key-pair, or axon keygen; password from
$COSIGN_PASSWORD or the terminal) or an unencrypted PKCS#8 PEM private key.`,
		Example: "  axon keygen\n  axon sign localhost:5000/hf/bert:1.0 --key cosign.key\n  axon verify localhost:5000/hf/bert:1.0 --key cosign.pub",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyPath == "" {
				return errors.New("sign: --key is required (a cosign.key; make one with axon keygen)")
			}
			key, err := axon.ReadSigningKey(keyPath, nil)
			if err != nil && os.Getenv(axon.EnvKeyPassword) == "" && term.IsTerminal(int(os.Stdin.Fd())) {
				var pw []byte
				if pw, err = keyPassword(false); err == nil {
					key, err = axon.ReadSigningKey(keyPath, pw)
				}
			}
			if err != nil {
				return fmt.Errorf("sign: %w", err)
			}
			res, err := axon.Sign(cmd.Context(), args[0], key, o.api(f.options(cmd.ErrOrStderr())...)...)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Reference)
			fmt.Fprintf(cmd.ErrOrStderr(), "signed %s: signature %s (referrer, tag %s)\n", res.Reference, res.Signature.Digest, res.Tag)
			return nil
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringVar(&keyPath, "key", "", "private key file (cosign.key or PKCS#8 PEM)")
	return cmd
}

// NewCmdVerify is axon verify.
func NewCmdVerify(o *Options) *cobra.Command {
	var f remoteFlags
	var keyPaths []string
	cmd := &cobra.Command{
		Use:   "verify REF --key cosign.pub",
		Short: "Verify a package's cosign signature in a registry",
		Long: `Check that the package REF carries a cosign signature (simple signing, found as an
OCI referrer or under the tag sha256-<digest>.sig) that verifies with the public key
and names REF's digest. Signatures made by 'cosign sign --key' verify too. Exits
non-zero when none does.`,
		Example: "  axon verify localhost:5000/hf/bert:1.0 --key cosign.pub",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(keyPaths) == 0 {
				return errors.New("verify: --key is required (a public key such as cosign.pub)")
			}
			var keys []*axon.PublicKey
			for _, p := range keyPaths {
				k, err := axon.ReadPublicKey(p)
				if err != nil {
					return fmt.Errorf("verify: %w", err)
				}
				keys = append(keys, k)
			}
			sigs, desc, err := axon.Verify(cmd.Context(), args[0], keys, o.api(f.options(cmd.ErrOrStderr())...)...)
			if err != nil {
				return err
			}
			for _, s := range sigs {
				fmt.Fprintf(cmd.OutOrStdout(), "verified %s: signed by key %s (%s) for %s\n", desc.Digest, s.Key, filepath.Base(s.KeySource), s.DockerReference)
			}
			return nil
		},
	}
	f.add(cmd, false)
	cmd.Flags().StringArrayVar(&keyPaths, "key", nil, "public key file (cosign.pub); repeat to accept any of several")
	return cmd
}

// NewCmdKeygen is axon keygen.
func NewCmdKeygen(o *Options) *cobra.Command {
	var prefix string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make a signing key pair in cosign's format (cosign.key, cosign.pub)",
		Long: `Write an ECDSA P-256 key pair: PREFIX.key encrypted with a password ($COSIGN_PASSWORD,
or asked twice on the terminal; empty is allowed, as with cosign) and PREFIX.pub. The
files are those 'cosign generate-key-pair' writes, so either tool uses them.`,
		Example: "  COSIGN_PASSWORD=secret axon keygen --output-key-prefix release",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			privPath, pubPath := prefix+".key", prefix+".pub"
			if !force {
				for _, p := range []string{privPath, pubPath} {
					if _, err := os.Stat(p); err == nil {
						return fmt.Errorf("keygen: %s exists; pass --force to replace it", p)
					}
				}
			}
			pw, err := keyPassword(true)
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			priv, pub, err := axon.GenerateKeyPair(pw)
			if err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			if err := os.WriteFile(privPath, priv, 0o600); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
				return fmt.Errorf("keygen: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Private key written to %s\nPublic key written to %s\n", privPath, pubPath)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "output-key-prefix", "cosign", "file name prefix of the key pair")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing key files")
	return cmd
}
