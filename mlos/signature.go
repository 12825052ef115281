package mlos

import (
	"context"
	"errors"

	"github.com/mlos-foundation/axon/internal/signing"
)

// verifySignature enforces Options.RequireSignature: before anything is
// pulled, the manifest r names is resolved in its source and must carry a
// cosign signature that verifies with one of Options.TrustKeys. r comes back
// pinned to the verified digest, so what is pulled is what was verified.
func (m *Manager) verifySignature(ctx context.Context, r Ref) (Ref, *signing.Signature, error) {
	if !m.opts.RequireSignature {
		return r, nil, nil
	}
	if len(m.opts.TrustKeys) == 0 {
		return r, nil, Unavailable("mlosd requires signatures but trusts no key (--trust-key)")
	}
	src, desc, err := m.puller.resolve(ctx, r)
	if err != nil {
		return r, nil, err
	}
	sigs, err := signing.Verify(ctx, src, desc, m.opts.TrustKeys)
	if err != nil {
		var ns *signing.NotSignedError
		if errors.As(err, &ns) {
			return r, nil, Forbidden("signature required: %v", err)
		}
		return r, nil, BadGateway("verify the signature of %s: %w", r, err)
	}
	r.Digest = desc.Digest
	s := sigs[0]
	return r, &s, nil
}

// signaturePolicy refuses to restore, under RequireSignature, a registration
// that was made without a verified signature.
func (m *Manager) signaturePolicy(model *Model) error {
	if m.opts.RequireSignature && model.Signer == nil {
		return Forbidden("signature required: %s was registered without a verified signature; register it again", model.Name)
	}
	return nil
}
