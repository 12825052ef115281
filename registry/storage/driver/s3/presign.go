package s3

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var _ driver.Redirector = (*Driver)(nil)

// URLFor implements driver.Redirector with a presigned GET of the object at
// p. Presigning is local (no request to S3); SigV4 takes 1s to 7 days.
func (d *Driver) URLFor(ctx context.Context, p string, expiry time.Duration) (string, error) {
	if err := driver.Begin(ctx, p); err != nil {
		return "", err
	}
	if expiry < time.Second || expiry > 7*24*time.Hour {
		return "", fmt.Errorf("presign %s: expiry %s is outside 1s..168h", p, expiry)
	}
	u, err := d.client.PresignedGetObject(ctx, d.bucket, d.key(p), expiry, url.Values{})
	if err != nil {
		return "", wrap(ctx, "presign", p, err)
	}
	return u.String(), nil
}
