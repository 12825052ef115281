package storage

import (
	"errors"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// openS3 is replaced by the minio-go driver as soon as it lands.
func openS3(rawURL string) (driver.Driver, error) {
	return nil, errors.New("storage: the s3 driver is not built yet")
}
