package axon

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/internal/artifact"
	"github.com/mlos-foundation/axon/internal/reference"
	"github.com/mlos-foundation/axon/internal/signing"
	"github.com/mlos-foundation/axon/internal/transfer"
)

// Result is what Push or Pull did: the registry reference, the package's
// descriptor, and how many blobs moved and how many were there already.
type Result = transfer.Result

// DefaultConcurrency is how many files Push and Pull move at once by default.
const DefaultConcurrency = transfer.DefaultConcurrency

// Push copies the package src from the local store to target
// (HOST[:PORT]/REPOSITORY[:TAG]; the tag defaults to the package version). A
// bare HOST[:PORT] pushes under the package's own name; an empty target means
// the WithRegistry registry ($AXON_REGISTRY, else localhost:5000) under that
// name. Blobs the registry has are not sent again. WithFormat(FormatModelPack)
// pushes it as a CNCF ModelPack artifact other model tools read. The store
// remembers the repository, so Register and Sign can name the package by its
// local name afterwards.
func Push(ctx context.Context, src, target string, opts ...Option) (*Result, error) {
	o := makeOptions(opts)
	st, err := openStore(o)
	if err != nil {
		return nil, err
	}
	if target == "" {
		target = o.registry
	}
	return transfer.PushFormat(ctx, st, src, target, o.format, o.transferOptions()...)
}

// Pull copies target (HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]) into the local
// store, tagged with target. A package name (NAMESPACE/NAME@VERSION) is
// pulled from the WithRegistry registry ($AXON_REGISTRY, else
// localhost:5000) and keeps its name. Every blob is verified against its
// digest before it is used, and a cancelled pull continues where it stopped
// when called again. ModelPack, ModelKit and Docker Model Runner artifacts
// are pulled too; any other artifact is refused with a list of what it holds.
func Pull(ctx context.Context, target string, opts ...Option) (*Result, error) {
	o := makeOptions(opts)
	st, err := openStore(o)
	if err != nil {
		return nil, err
	}
	if o.registry == "" {
		return transfer.Pull(ctx, st, target, o.transferOptions()...)
	}
	r, err := reference.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", target, err)
	}
	if r.IsRemote() {
		return transfer.Pull(ctx, st, target, o.transferOptions()...)
	}
	remote := o.registry + "/" + r.Repository
	if r.Digest != "" {
		remote += "@" + r.Digest.String()
	} else {
		remote += ":" + r.Tag
	}
	res, err := transfer.Pull(ctx, st, remote, o.transferOptions()...)
	if err != nil {
		return nil, err
	}
	if r.Digest == "" {
		// The package keeps its name, as when it comes from $AXON_REGISTRY.
		if err := st.Tag(ctx, res.Descriptor, r.String()); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func inspectRemote(ctx context.Context, ref string, o *options) (*artifact.Package, error) {
	return transfer.Inspect(ctx, ref, o.transferOptions()...)
}

// Login checks username and password against registry and keeps them where
// docker keeps them (the credential helper or store of ~/.docker/config.json,
// $DOCKER_CONFIG, else the file itself), so docker, oras and axon share them.
func Login(ctx context.Context, registry, username, password string, opts ...Option) error {
	return transfer.Login(ctx, registry, username, password, makeOptions(opts).transferOptions()...)
}

// Logout forgets the credentials of registry.
func Logout(ctx context.Context, registry string, opts ...Option) error {
	return transfer.Logout(ctx, registry, makeOptions(opts).transferOptions()...)
}

// SigningKey is a private key to sign with (ECDSA P-256, cosign's format).
type SigningKey = signing.Key

// PublicKey is a public key to verify with.
type PublicKey = signing.PublicKey

// Signature is a verified signature.
type Signature = signing.Signature

// SignResult says what Sign stored.
type SignResult = transfer.SignResult

// ReadSigningKey reads a cosign private key (password-encrypted) or an
// unencrypted PKCS#8 PEM key.
func ReadSigningKey(path string, password []byte) (*SigningKey, error) {
	return signing.ReadKey(path, password)
}

// ReadPublicKey reads a PEM public key such as cosign.pub.
func ReadPublicKey(path string) (*PublicKey, error) { return signing.ReadPublicKey(path) }

// GenerateKeyPair makes an ECDSA P-256 key pair in the files cosign
// generate-key-pair writes: the private key encrypted with password.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	return signing.GenerateKeyPair(password)
}

// Sign signs the package ref with key, in cosign's simple-signing format,
// and stores the signature in the package's repository (as an OCI referrer
// and under cosign's sha256-<digest>.sig tag), so cosign verify accepts it.
// ref is a registry reference or a local package that was pushed: signatures
// live in the registry, next to the package.
func Sign(ctx context.Context, ref string, key *SigningKey, opts ...Option) (*SignResult, error) {
	o := makeOptions(opts)
	target, err := remoteTarget(ctx, ref, o)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return transfer.Sign(ctx, target, key, o.transferOptions()...)
}

// Verify checks that the package ref carries a cosign signature that
// verifies with one of keys and names ref's digest; it returns the verified
// signatures and the package's descriptor. No signature is an error.
func Verify(ctx context.Context, ref string, keys []*PublicKey, opts ...Option) ([]Signature, ocispec.Descriptor, error) {
	o := makeOptions(opts)
	target, err := remoteTarget(ctx, ref, o)
	if err != nil {
		return nil, ocispec.Descriptor{}, fmt.Errorf("verify: %w", err)
	}
	return transfer.Verify(ctx, target, keys, o.transferOptions()...)
}

// remoteTarget turns a package of the local store that was pushed into the
// registry reference it was pushed to, pinned by digest; a registry
// reference passes as it is.
func remoteTarget(ctx context.Context, ref string, o *options) (string, error) {
	if reference.HasHost(ref) {
		return ref, nil
	}
	if st, err := openStore(o); err == nil {
		if desc, err := st.Resolve(ctx, ref); err == nil {
			if remotes := st.Remotes(desc.Digest); len(remotes) > 0 {
				return remotes[0] + "@" + desc.Digest.String(), nil
			}
			return "", fmt.Errorf("%s is only in the local store: axon push it first (signatures are stored in the registry, next to the package)", ref)
		}
	}
	return ref, nil
}

// EnvKeyPassword is the environment variable holding a signing key's
// password, cosign's name for it.
const EnvKeyPassword = signing.EnvPassword
