package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// EnvPassword is the variable cosign reads a key's password from; axon too.
const EnvPassword = "COSIGN_PASSWORD"

// PEM block types of cosign's encrypted private keys (cosign generates the
// SIGSTORE one; older keys carry the COSIGN one).
const (
	pemSigstoreKey = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemCosignKey   = "ENCRYPTED COSIGN PRIVATE KEY"
)

// Key is a loaded private key.
type Key struct {
	signer signature.SignerVerifier
	pub    crypto.PublicKey
}

// PublicKey is a loaded public key with its verifier.
type PublicKey struct {
	verifier signature.Verifier
	pub      crypto.PublicKey
	// Fingerprint is "sha256:" + hex SHA-256 of the key's PKIX DER encoding:
	// what mlosd records as the signer.
	Fingerprint string
	// Source is where the key was read from (a file name).
	Source string
}

// Public returns the key's public half.
func (k *Key) Public() (*PublicKey, error) { return newPublicKey(k.pub, "") }

// ReadKey reads a private key file: cosign's encrypted format (cosign.key,
// password from password or $COSIGN_PASSWORD), or an unencrypted PKCS#8 or
// SEC 1 ("EC PRIVATE KEY") PEM. Only ECDSA P-256 keys sign: what cosign
// signs with by default and verifies with --key.
func ReadKey(path string, password []byte) (*Key, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		return nil, fmt.Errorf("key %s is not a PEM file", path)
	}
	var priv any
	switch blk.Type {
	case pemSigstoreKey, pemCosignKey:
		if password == nil {
			password = []byte(os.Getenv(EnvPassword))
		}
		der, err := encrypted.Decrypt(blk.Bytes, password)
		if err != nil {
			return nil, fmt.Errorf("key %s: cannot decrypt (wrong password? set %s): %w", path, EnvPassword, err)
		}
		priv, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w", path, err)
		}
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(blk.Bytes)
	case "PUBLIC KEY":
		return nil, fmt.Errorf("key %s is a public key; signing needs the private key (cosign.key)", path)
	default:
		return nil, fmt.Errorf("key %s: unsupported PEM block %q (want a cosign key or a PKCS#8 private key)", path, blk.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("key %s: only ECDSA P-256 keys are supported", path)
	}
	sv, err := signature.LoadECDSASignerVerifier(ec, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	return &Key{signer: sv, pub: ec.Public()}, nil
}

// ReadPublicKey reads a PEM public key (cosign.pub, or any PKIX "PUBLIC KEY").
func ReadPublicKey(path string) (*PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("public key %s: %w", path, err)
	}
	return newPublicKey(pub, path)
}

func newPublicKey(pub crypto.PublicKey, source string) (*PublicKey, error) {
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("only ECDSA P-256 public keys are supported")
	}
	v, err := signature.LoadECDSAVerifier(ec, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(der)
	return &PublicKey{verifier: v, pub: pub, Fingerprint: "sha256:" + hex.EncodeToString(sum[:]), Source: source}, nil
}

// PEM is the public key in PEM (what cosign.pub holds).
func (p *PublicKey) PEM() ([]byte, error) { return cryptoutils.MarshalPublicKeyToPEM(p.pub) }

// GenerateKeyPair makes an ECDSA P-256 key pair in cosign's formats: the
// private key encrypted with password (scrypt + secretbox, as
// `cosign generate-key-pair` writes it) and the public key as PEM.
func GenerateKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, nil, err
	}
	pubPEM, err = cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemSigstoreKey, Bytes: enc}), pubPEM, nil
}
