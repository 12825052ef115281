package storage

import (
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/s3"
)

func openS3(rawURL string) (driver.Driver, error) {
	return s3.FromURL(rawURL)
}
