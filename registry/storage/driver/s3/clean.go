package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

var _ driver.Cleaner = (*Driver)(nil)

// Clean implements driver.Cleaner: it aborts multipart uploads under the
// driver's prefix started before olderThan, whose writer died before completing
// them. Their parts are invisible but still stored (and billed).
func (d *Driver) Clean(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	n := 0
	for u := range d.client.ListIncompleteUploads(ctx, d.bucket, d.prefix, true) {
		if u.Err != nil {
			return n, wrap(ctx, "clean", "", u.Err)
		}
		if u.Initiated.After(cutoff) {
			continue
		}
		if err := d.core.AbortMultipartUpload(ctx, d.bucket, u.Key, u.UploadID); err != nil && !isNotFound(err) {
			return n, fmt.Errorf("clean %s: s3: %w", d.path(u.Key), err)
		}
		n++
	}
	return n, ctx.Err()
}
