package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlos-foundation/axon/internal/signing"
	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/mlos/mlostest"
)

// run runs a program with env added, returning its combined output and error.
func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestSigningInteropWithCosign: against a real axon-registry, what axon signs
// the real cosign verifies (tag and OCI 1.1 referrers lookups), what cosign
// signs axon verifies, keys cross both ways, and mlosd --require-signature
// registers only packages signed by a trusted key, recording the signer.
func TestSigningInteropWithCosign(t *testing.T) {
	cosign := testutil.Tool(t, "cosign")
	registry := startRegistry(t, nil, "--root", t.TempDir())
	dir := t.TempDir()
	home := t.TempDir()
	// cosign must not reach out for Sigstore's public trust root.
	cenv := []string{"COSIGN_PASSWORD=cosign-pw", "HOME=" + home, "TUF_ROOT=" + filepath.Join(home, "tuf"), "SIGSTORE_NO_CACHE=1", "COSIGN_YES=true"}
	aenv := []string{"AXON_HOME=" + t.TempDir(), "COSIGN_PASSWORD=axon-pw", "DOCKER_CONFIG=" + filepath.Join(home, "docker")}

	push := func(name string) string {
		p := mlostest.Package{Namespace: "test", Name: name, Version: "1", Model: mlostest.AffineModel(t)}
		if name != "affine" {
			p.Files = map[string][]byte{"README.md": []byte("package " + name)}
		}
		d := p.PushRemote(t, registry, "test/"+name, "1")
		return registry + "/test/" + name + "@" + d.Digest.String()
	}
	axonSigned, cosignSigned, unsigned := push("affine"), push("by-cosign"), push("unsigned")

	// Keys: one pair from axon keygen, one from cosign generate-key-pair.
	if out, err := run(t, aenv, bin("axon"), "keygen", "--output-key-prefix", filepath.Join(dir, "axon")); err != nil {
		t.Fatalf("axon keygen: %v\n%s", err, out)
	}
	cmd := exec.Command(cosign, "generate-key-pair")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), cenv...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	axonKey, axonPub := filepath.Join(dir, "axon.key"), filepath.Join(dir, "axon.pub")
	cosignKey, cosignPub := filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")

	cosignVerify := func(ref, pub string, extra ...string) (string, error) {
		args := append([]string{"verify", "--key", pub, "--insecure-ignore-tlog", "--allow-http-registry"}, extra...)
		return run(t, cenv, cosign, append(args, ref)...)
	}

	// axon signs (with its own key) -> cosign verifies, by tag and by referrers.
	if out, err := run(t, aenv, bin("axon"), "sign", axonSigned, "--key", axonKey); err != nil {
		t.Fatalf("axon sign: %v\n%s", err, out)
	}
	for _, extra := range [][]string{nil, {"--experimental-oci11"}} {
		if out, err := cosignVerify(axonSigned, axonPub, extra...); err != nil || !strings.Contains(out, `"docker-manifest-digest"`) {
			t.Fatalf("cosign verify %v of axon's signature: %v\n%s", extra, err, out)
		}
	}
	if out, err := cosignVerify(axonSigned, cosignPub); err == nil {
		t.Fatalf("cosign verified axon's signature with the wrong key:\n%s", out)
	}
	// The referrers API of the registry lists it.
	resp, err := http.Get("http://" + registry + "/v2/test/affine/referrers/" + axonSigned[strings.LastIndex(axonSigned, "@")+1:])
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Manifests []struct{ ArtifactType string } `json:"manifests"`
	}
	json.NewDecoder(resp.Body).Decode(&idx)
	resp.Body.Close()
	if len(idx.Manifests) == 0 || idx.Manifests[0].ArtifactType != signing.ArtifactTypeSignature {
		t.Fatalf("referrers of the signed package: %+v", idx)
	}

	// Without cosign's tag, the referrers API alone finds the signature: for
	// cosign --experimental-oci11 and for axon.
	dgst := axonSigned[strings.LastIndex(axonSigned, "@")+1:]
	req, _ := http.NewRequest(http.MethodDelete, "http://"+registry+"/v2/test/affine/manifests/sha256-"+strings.TrimPrefix(dgst, "sha256:")+".sig", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("delete the .sig tag: %v %v", resp, err)
	}
	if out, err := cosignVerify(axonSigned, axonPub); err == nil {
		t.Fatalf("cosign found a signature by tag after the tag was deleted:\n%s", out)
	}
	if out, err := cosignVerify(axonSigned, axonPub, "--experimental-oci11"); err != nil {
		t.Fatalf("cosign verify --experimental-oci11 through the referrers API: %v\n%s", err, out)
	}
	if out, err := run(t, aenv, bin("axon"), "verify", axonSigned, "--key", axonPub); err != nil {
		t.Fatalf("axon verify through the referrers API: %v\n%s", err, out)
	}

	// Key files cross both ways: axon signs with cosign's key, cosign with axon's.
	crossA, crossC := push("cross-a"), push("cross-c")
	if out, err := run(t, append(aenv, "COSIGN_PASSWORD=cosign-pw"), bin("axon"), "sign", crossA, "--key", cosignKey); err != nil {
		t.Fatalf("axon sign with cosign's key: %v\n%s", err, out)
	}
	if out, err := cosignVerify(crossA, cosignPub); err != nil {
		t.Fatalf("cosign verify (axon signed with cosign's key): %v\n%s", err, out)
	}
	if out, err := run(t, append(cenv, "COSIGN_PASSWORD=axon-pw"), cosign, "sign", "--key", axonKey, "--tlog-upload=false", "--allow-http-registry", "-y", crossC); err != nil {
		t.Fatalf("cosign sign with axon's key: %v\n%s", err, out)
	}
	if out, err := run(t, aenv, bin("axon"), "verify", crossC, "--key", axonPub); err != nil {
		t.Fatalf("axon verify (cosign signed with axon's key): %v\n%s", err, out)
	}
	if out, err := run(t, aenv, bin("axon"), "sign", registry+"/test/affine@sha256:"+strings.Repeat("0", 64), "--key", axonKey); err == nil {
		t.Fatalf("signing a digest that does not exist succeeded:\n%s", out)
	}

	// cosign signs -> axon verifies; the other key does not.
	if out, err := run(t, cenv, cosign, "sign", "--key", cosignKey, "--tlog-upload=false", "--allow-http-registry", "-y", cosignSigned); err != nil {
		t.Fatalf("cosign sign: %v\n%s", err, out)
	}
	if out, err := run(t, aenv, bin("axon"), "verify", cosignSigned, "--key", cosignPub); err != nil || !strings.Contains(out, "verified sha256:") {
		t.Fatalf("axon verify of cosign's signature: %v\n%s", err, out)
	}
	if out, err := run(t, aenv, bin("axon"), "verify", cosignSigned, "--key", axonPub); err == nil || !strings.Contains(out, "none verifies") {
		t.Fatalf("axon verify with the wrong key: %v\n%s", err, out)
	}
	if out, err := run(t, aenv, bin("axon"), "verify", unsigned, "--key", cosignPub); err == nil || !strings.Contains(out, "is not signed") {
		t.Fatalf("axon verify of an unsigned package: %v\n%s", err, out)
	}

	// cosign's OCI 1.1 mode (a referrer only, no .sig tag): axon finds it too.
	oci11 := push("oci11")
	if out, err := run(t, append(cenv, "COSIGN_EXPERIMENTAL=1"), cosign, "sign", "--key", cosignKey, "--tlog-upload=false", "--allow-http-registry", "-y", "--registry-referrers-mode=oci-1-1", oci11); err != nil {
		t.Fatalf("cosign sign --registry-referrers-mode=oci-1-1: %v\n%s", err, out)
	}
	if resp, err := http.Get("http://" + registry + "/v2/test/oci11/tags/list"); err == nil {
		var tags struct{ Tags []string }
		json.NewDecoder(resp.Body).Decode(&tags)
		resp.Body.Close()
		for _, tag := range tags.Tags {
			if strings.HasSuffix(tag, ".sig") {
				t.Fatalf("cosign's OCI 1.1 mode wrote the tag %s", tag)
			}
		}
	}
	if out, err := run(t, aenv, bin("axon"), "verify", oci11, "--key", cosignPub); err != nil {
		t.Fatalf("axon verify of cosign's OCI 1.1 referrer: %v\n%s", err, out)
	}

	// mlosd trusts cosign's key only.
	addr := testutil.FreeAddr(t)
	testutil.Start(t, []string{"ONNXRUNTIME_LIB=" + testutil.ORTLibrary(t)}, bin("mlosd"), "--addr", addr, "--data", t.TempDir(),
		"--require-signature", "--trust-key", cosignPub)
	testutil.WaitHTTP(t, "http://"+addr+"/healthz", 30*time.Second)
	register := func(ref string) (int, map[string]any) {
		b, _ := json.Marshal(map[string]string{"ref": ref})
		resp, err := http.Post("http://"+addr+"/models", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	pub, err := signing.ReadPublicKey(cosignPub)
	if err != nil {
		t.Fatal(err)
	}
	code, body := register(cosignSigned)
	signer, _ := body["signer"].(map[string]any)
	if code != http.StatusCreated || signer["key"] != pub.Fingerprint {
		t.Fatalf("register a package cosign signed: %d %v (want 201 and signer %s)", code, body, pub.Fingerprint)
	}
	for ref, want := range map[string]string{unsigned: "is not signed", axonSigned: "none verifies"} {
		code, body := register(ref)
		if msg, _ := body["error"].(string); code != http.StatusForbidden || !strings.Contains(msg, "signature required") || !strings.Contains(msg, want) {
			t.Fatalf("register %s: %d %v, want 403 %q", ref, code, body, want)
		}
	}
}
