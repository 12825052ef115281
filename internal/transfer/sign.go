package transfer

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/mlos-foundation/axon/internal/signing"
)

// SignResult says what Sign stored.
type SignResult struct {
	Subject   ocispec.Descriptor // the signed manifest
	Signature ocispec.Descriptor // the signature manifest (a referrer of Subject)
	Tag       string             // cosign's tag for it: sha256-<hex>.sig
	Reference string             // HOST/REPO@DIGEST that was signed
}

// Sign signs the manifest target names (HOST/REPO:TAG or @DIGEST; a tag is
// resolved and the digest signed) with key, in cosign's format, and stores
// the signature in the same repository.
func Sign(ctx context.Context, target string, key *signing.Key, opts ...Option) (*SignResult, error) {
	ref, repo, err := openTarget("sign", target, opts)
	if err != nil {
		return nil, err
	}
	desc, err := resolveExact(ctx, repo, ref, "sign", target)
	if err != nil {
		return nil, err
	}
	repoName := ref.Registry + "/" + ref.Repository
	sig, err := signing.Sign(ctx, repo, desc, repoName, key)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", target, explain(err))
	}
	return &SignResult{Subject: desc, Signature: sig, Tag: signing.SignatureTag(desc.Digest), Reference: repoName + "@" + desc.Digest.String()}, nil
}

// Verify checks that the manifest target names carries a cosign signature
// that verifies with one of keys; it returns the verified signatures and the
// manifest's descriptor.
func Verify(ctx context.Context, target string, keys []*signing.PublicKey, opts ...Option) ([]signing.Signature, ocispec.Descriptor, error) {
	ref, repo, err := openTarget("verify", target, opts)
	if err != nil {
		return nil, ocispec.Descriptor{}, err
	}
	desc, err := resolveExact(ctx, repo, ref, "verify", target)
	if err != nil {
		return nil, desc, err
	}
	sigs, err := signing.Verify(ctx, repo, desc, keys)
	if err != nil {
		return nil, desc, fmt.Errorf("verify %s: %w", target, err)
	}
	return sigs, desc, nil
}
