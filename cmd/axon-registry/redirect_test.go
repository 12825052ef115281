package main

import (
	"os/exec"
	"strings"
	"testing"
)

// --storage-redirect needs S3 and a sane expiry; a mistake is one clear line.
func TestStorageRedirectFlags(t *testing.T) {
	bin := registryBinary(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--storage-redirect"}, "need S3 storage"},
		{[]string{"--storage-redirect", "--storage-redirect-expiry", "0s"}, "--storage-redirect-expiry"},
		{[]string{"--storage-redirect", "--storage-redirect-expiry", "200h"}, "--storage-redirect-expiry"},
	}
	for _, c := range cases {
		out, err := exec.Command(bin, append(c.args, "--root", t.TempDir(), "--addr", "127.0.0.1:0")...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
			t.Errorf("%v: err %v, output %q; want one line naming %q", c.args, err, out, c.want)
		}
	}
}
