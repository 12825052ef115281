package download_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/adapters/download"
)

func tgz(entries map[string]string) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range entries {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// FuzzExtractTarGz: any archive either fails or leaves every file inside the target.
func FuzzExtractTarGz(f *testing.F) {
	f.Add(tgz(map[string]string{"./saved_model.pb": "x", "variables/v.index": "y"}))
	f.Add(tgz(map[string]string{"../evil": "x"}))
	f.Add(tgz(map[string]string{"/abs": "x"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "in")
		files, err := download.ExtractTarGz(bytes.NewReader(data), dir)
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if e.Name() != "in" {
				t.Fatalf("%s written outside the target", e.Name())
			}
		}
		if err != nil {
			return
		}
		for _, f := range files {
			if strings.HasPrefix(f, "/") || strings.Contains("/"+f+"/", "/../") {
				t.Fatalf("extracted %q", f)
			}
		}
	})
}
