package repostore

import (
	"testing"
)

func FuzzParseManifest(f *testing.F) {
	f.Add("application/vnd.oci.image.manifest.v1+json", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	f.Add("application/vnd.oci.image.index.v1+json", `{"schemaVersion":2,"manifests":[{"mediaType":"x/y","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":-1}]}`)
	f.Add("", `{"schemaVersion":2}`)
	f.Add("text/plain", `[1,2,3]`)
	f.Add("", `{"schemaVersion":2,"subject":{"digest":"md5:00"}} trailing`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		doc, mt, err := ParseManifest(ct, []byte(body))
		if err != nil {
			return
		}
		if mt == "" || doc == nil {
			t.Fatalf("accepted without a media type: %q", body)
		}
		// every descriptor of an accepted manifest is usable as a storage key
		for _, d := range doc.references() {
			if d.Validate() != nil {
				t.Fatalf("accepted invalid digest %q", d)
			}
			_ = blobPath(d)
		}
	})
}
