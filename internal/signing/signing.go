// Package signing signs and verifies axon packages the way cosign does:
// cosign's simple signing payload signed with an ECDSA P-256 key, stored in
// the registry as an OCI referrer of the package (artifact type
// application/vnd.dev.cosign.artifact.sig.v1+json, found through the
// referrers API or oras-go's referrers tag fallback) and under cosign's tag
// sha256-<hex>.sig, so `cosign verify --key` finds it with or without
// --experimental-oci11, and axon finds what cosign signed. No transparency
// log is involved: trust is the key.
package signing

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// Media types and annotations of cosign's signature format.
const (
	ArtifactTypeSignature  = "application/vnd.dev.cosign.artifact.sig.v1+json"
	MediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	AnnotationSignature    = "dev.cosignproject.cosign/signature"
	// PayloadType is the simple signing payload's critical.type.
	PayloadType = "cosign container image signature"
)

// Limits on what is read from a registry while verifying (a hostile one
// could list any number of referrers) and on what a .sig manifest keeps.
const (
	maxManifest   = 1 << 20
	maxPayload    = 64 << 10
	maxLayers     = 256
	maxCandidates = 32 // signature manifests looked at
	maxChecked    = 64 // signature layers checked in all
)

// Payload is cosign's simple signing payload (the containers/image
// "atomic container signature" format cosign signs).
type Payload struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// SignatureTag is cosign's tag for the signatures of d: sha256-<hex>.sig.
func SignatureTag(d digest.Digest) string {
	return d.Algorithm().String() + "-" + d.Encoded() + ".sig"
}

// Target is where signatures are written: a registry repository or an OCI
// layout (both oras.Target).
type Target = oras.Target

// Sign signs subject (a package manifest in target) with key and stores the
// signature as a referrer of subject and under cosign's .sig tag (merged with
// the signatures already there). dockerRef is the repository the payload
// names (HOST/REPO), as cosign writes it. It returns the signature manifest.
func Sign(ctx context.Context, target Target, subject ocispec.Descriptor, dockerRef string, key *Key) (ocispec.Descriptor, error) {
	var p Payload
	p.Critical.Identity.DockerReference = dockerRef
	p.Critical.Image.DockerManifestDigest = subject.Digest.String()
	p.Critical.Type = PayloadType
	payload, err := json.Marshal(p)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	sig, err := key.signer.SignMessage(bytes.NewReader(payload))
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("sign: %w", err)
	}
	layer := content.NewDescriptorFromBytes(MediaTypeSimpleSigning, payload)
	layer.Annotations = map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}
	if err := pushIfAbsent(ctx, target, layer, payload); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push signature payload: %w", err)
	}
	// Keep the signatures cosign or an earlier sign put under the .sig tag.
	layers := []ocispec.Descriptor{layer}
	if old, err := target.Resolve(ctx, SignatureTag(subject.Digest)); err == nil {
		if m, err := fetchManifest(ctx, target, old); err == nil {
			for _, l := range m.Layers {
				if l.MediaType == MediaTypeSimpleSigning && l.Digest != layer.Digest && len(layers) < maxLayers {
					layers = append(layers, l)
				}
			}
		}
	}
	// cosign's signature image config: layers uncompressed, so diff_ids are
	// the layer digests.
	diffIDs := make([]string, len(layers))
	for i, l := range layers {
		diffIDs[i] = l.Digest.String()
	}
	cfgJSON, err := json.Marshal(map[string]any{
		"architecture": "", "os": "", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cfg := content.NewDescriptorFromBytes(ArtifactTypeSignature, cfgJSON)
	if err := pushIfAbsent(ctx, target, cfg, cfgJSON); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push signature config: %w", err)
	}
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactTypeSignature,
		Config:       cfg,
		Layers:       layers,
		Subject:      &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
	}
	raw, err := json.Marshal(man)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, raw)
	desc.ArtifactType = ArtifactTypeSignature
	if err := pushIfAbsent(ctx, target, desc, raw); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push signature manifest: %w", err)
	}
	if err := target.Tag(ctx, desc, SignatureTag(subject.Digest)); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("tag signature %s: %w", SignatureTag(subject.Digest), err)
	}
	return desc, nil
}

func pushIfAbsent(ctx context.Context, t content.Storage, d ocispec.Descriptor, b []byte) error {
	if ok, err := t.Exists(ctx, d); err == nil && ok {
		return nil
	}
	err := t.Push(ctx, d, bytes.NewReader(b))
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

// Signature is a verified signature.
type Signature struct {
	// Key is the fingerprint of the public key it verifies with.
	Key string `json:"key"`
	// KeySource is the file the trusted key was read from.
	KeySource string `json:"keySource,omitempty"`
	// DockerReference is the repository the signer named in the payload.
	DockerReference string `json:"dockerReference,omitempty"`
	// Manifest is the signature manifest it came from.
	Manifest string `json:"manifest"`
}

// Source is what Verify reads: a registry repository or an OCI layout.
type Source interface {
	content.Fetcher
	content.Resolver
}

// NotSignedError says that no signature of the subject verified.
type NotSignedError struct {
	Subject digest.Digest
	Found   int    // signatures found (none verified)
	Reason  string // why the last one failed
}

func (e *NotSignedError) Error() string {
	if e.Found == 0 {
		return fmt.Sprintf("%s is not signed: no cosign signature found (referrers of type %s, or tag %s)", e.Subject, ArtifactTypeSignature, SignatureTag(e.Subject))
	}
	return fmt.Sprintf("%s has %d signature(s) but none verifies with the trusted key(s): %s", e.Subject, e.Found, e.Reason)
}

// Verify finds the cosign signatures of subject in src (the .sig tag, then
// referrers) and returns those that verify with one of keys: the signature
// over the payload, and the payload naming subject's digest. None is a
// *NotSignedError.
func Verify(ctx context.Context, src Source, subject ocispec.Descriptor, keys []*PublicKey) ([]Signature, error) {
	if len(keys) == 0 {
		return nil, errors.New("verify: no public key to verify with")
	}
	var cands []ocispec.Descriptor
	seen := map[digest.Digest]bool{}
	add := func(d ocispec.Descriptor) {
		if !seen[d.Digest] && len(cands) < maxCandidates {
			seen[d.Digest] = true
			cands = append(cands, d)
		}
	}
	// cosign's tag first: it is where both tools put the current signatures.
	if d, err := src.Resolve(ctx, SignatureTag(subject.Digest)); err == nil {
		add(d)
	} else if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if gs, ok := src.(content.ReadOnlyGraphStorage); ok {
		if refs, err := registry.Referrers(ctx, gs, subject, ArtifactTypeSignature); err == nil {
			for _, r := range refs {
				add(r)
			}
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	ns := &NotSignedError{Subject: subject.Digest}
	var out []Signature
	for _, c := range cands {
		m, err := fetchManifest(ctx, src, c)
		if err != nil {
			ns.Found++
			ns.Reason = err.Error()
			continue
		}
		for _, l := range m.Layers {
			if l.MediaType != MediaTypeSimpleSigning || ns.Found >= maxChecked {
				continue
			}
			ns.Found++
			s, err := verifyLayer(ctx, src, subject, l, keys)
			if err != nil {
				ns.Reason = err.Error()
				continue
			}
			s.Manifest = c.Digest.String()
			out = append(out, *s)
		}
	}
	if len(out) == 0 {
		return nil, ns
	}
	return out, nil
}

func fetchManifest(ctx context.Context, src content.Fetcher, d ocispec.Descriptor) (*ocispec.Manifest, error) {
	if d.Size > maxManifest {
		return nil, fmt.Errorf("signature manifest %s is %d bytes, over the %d-byte limit", d.Digest, d.Size, maxManifest)
	}
	raw, err := content.FetchAll(ctx, src, d)
	if err != nil {
		return nil, fmt.Errorf("fetch signature manifest %s: %w", d.Digest, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("signature manifest %s is not JSON: %w", d.Digest, err)
	}
	return &m, nil
}

func verifyLayer(ctx context.Context, src content.Fetcher, subject, l ocispec.Descriptor, keys []*PublicKey) (*Signature, error) {
	sigB64 := l.Annotations[AnnotationSignature]
	if sigB64 == "" {
		return nil, fmt.Errorf("signature layer %s has no %s annotation", l.Digest, AnnotationSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, fmt.Errorf("signature of layer %s is not base64", l.Digest)
	}
	if l.Size > maxPayload {
		return nil, fmt.Errorf("signature payload %s is %d bytes, over the %d-byte limit", l.Digest, l.Size, maxPayload)
	}
	rc, err := src.Fetch(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("fetch signature payload %s: %w", l.Digest, err)
	}
	payload, err := content.ReadAll(io.NopCloser(rc), l) // verifies size and digest
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("signature payload %s: %w", l.Digest, err)
	}
	var match *PublicKey
	for _, k := range keys {
		if k.verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload)) == nil {
			match = k
			break
		}
	}
	if match == nil {
		return nil, errors.New("the signature does not verify with the trusted key(s)")
	}
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, fmt.Errorf("signed payload is not JSON: %w", err)
	}
	if p.Critical.Type != PayloadType {
		return nil, fmt.Errorf("signed payload has type %q, not %q", p.Critical.Type, PayloadType)
	}
	if got := strings.TrimSpace(p.Critical.Image.DockerManifestDigest); got != subject.Digest.String() {
		return nil, fmt.Errorf("the signature is for %s, not %s", got, subject.Digest)
	}
	return &Signature{Key: match.Fingerprint, KeySource: match.Source, DockerReference: p.Critical.Identity.DockerReference}, nil
}
