// Package storage picks the registry's storage driver from a --root / --storage value.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
)

// Open returns the driver for rawURLOrDir: a plain directory or file:///dir gives
// the filesystem driver, s3://BUCKET[/prefix]?endpoint=...&region=... the S3 driver.
func Open(rawURLOrDir string) (driver.Driver, error) {
	switch {
	case rawURLOrDir == "":
		return nil, errors.New("storage: empty location; give a directory or an s3:// URL")
	case strings.HasPrefix(rawURLOrDir, "s3://"):
		return openS3(rawURLOrDir)
	case strings.HasPrefix(rawURLOrDir, "file://"):
		u, err := url.Parse(rawURLOrDir)
		if err != nil {
			return nil, fmt.Errorf("storage %q: %w", rawURLOrDir, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("storage %q: file URLs must be local (file:///path)", rawURLOrDir)
		}
		return fs.New(u.Path)
	case strings.Contains(rawURLOrDir, "://"):
		return nil, fmt.Errorf("storage %q: unsupported scheme; use a directory, file:// or s3://", rawURLOrDir)
	}
	return fs.New(rawURLOrDir)
}

// Check asks drivers that can tell (S3) whether their configuration works: the
// bucket exists and the credentials reach it. A server that starts on a wrong
// bucket would answer every request with a storage error instead.
func Check(ctx context.Context, d driver.Driver) error {
	c, ok := d.(interface{ Check(context.Context) error })
	if !ok {
		return nil
	}
	return c.Check(ctx)
}
