// Package s3 is the S3 storage driver (minio-go v7). Paths are object keys under
// an optional prefix; a directory is a key prefix. S3 writes are atomic per
// object, so PutContent is one PutObject and Move is a server-side copy (or
// compose) followed by a delete: a reader of the destination sees the old or the
// new object, never a part.
//
// A streamed upload is kept as one object per Writer session, under
// "<path>.axon-parts/<seq>": appending continues with a new part object, Size
// sums them, and Move joins them into the destination.
package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// Config describes a bucket to store in.
type Config struct {
	Endpoint  string // host[:port], "" for AWS
	Secure    bool   // https
	Region    string
	Bucket    string
	Prefix    string // key prefix, without leading or trailing '/'
	PathStyle bool
	Creds     *credentials.Credentials
}

// Driver stores files as objects in one bucket.
type Driver struct {
	client *minio.Client
	core   minio.Core
	bucket string
	prefix string // "" or "some/prefix/"

	inFlight chan struct{} // part uploads running, all writers together
}

var _ driver.Driver = (*Driver)(nil)

// FromURL parses s3://BUCKET[/prefix]?endpoint=http://HOST:PORT&region=us-east-1.
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN), then the shared credentials file, then the instance role.
// With an endpoint the bucket is addressed path-style, as S3-compatible servers
// expect; without one it is AWS S3.
func FromURL(rawURL string) (*Driver, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("s3 storage URL: %w", err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("s3 storage URL %q: want s3://BUCKET[/prefix]?endpoint=...&region=...", rawURL)
	}
	q := u.Query()
	cfg := Config{
		Bucket: u.Host,
		Prefix: strings.Trim(u.Path, "/"),
		Region: q.Get("region"),
		Secure: true,
	}
	if cfg.Region == "" {
		cfg.Region = os.Getenv("AWS_REGION")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if ep := q.Get("endpoint"); ep != "" {
		eu, err := url.Parse(ep)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return nil, fmt.Errorf("s3 storage URL: endpoint %q must look like http://HOST:PORT or https://HOST", ep)
		}
		cfg.Endpoint, cfg.Secure, cfg.PathStyle = eu.Host, eu.Scheme == "https", true
	}
	if cfg.Prefix != "" {
		if err := driver.CheckPath(cfg.Prefix); err != nil {
			return nil, fmt.Errorf("s3 storage URL prefix: %w", err)
		}
	}
	cfg.Creds = credentials.NewChainCredentials([]credentials.Provider{
		&credentials.EnvAWS{},
		&credentials.FileAWSCredentials{},
		&credentials.IAM{Client: &http.Client{Transport: http.DefaultTransport}},
	})
	return New(cfg)
}

// New connects to the bucket cfg describes. It sends no request.
func New(cfg Config) (*Driver, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3 storage: no bucket")
	}
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("s3 storage: %w", err)
	}
	// Many concurrent uploads and blob reads go to one endpoint; keep their
	// connections instead of reopening them.
	tr.MaxIdleConnsPerHost = 256
	tr.DisableCompression = true
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        cfg.Creds,
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    tr,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 storage %s: %w", endpoint, err)
	}
	d := &Driver{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, inFlight: make(chan struct{}, maxInFlight)}
	if cfg.Prefix != "" {
		d.prefix = cfg.Prefix + "/"
	}
	return d, nil
}

// Check verifies that the bucket exists and the credentials work.
func (d *Driver) Check(ctx context.Context) error {
	ok, err := d.client.BucketExists(ctx, d.bucket)
	where := d.client.EndpointURL().String()
	if err != nil {
		switch minio.ToErrorResponse(err).Code {
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken":
			return fmt.Errorf("s3 bucket %s at %s: access denied; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", d.bucket, where)
		}
		return fmt.Errorf("s3 bucket %s at %s: %w", d.bucket, where, err)
	}
	if !ok {
		return fmt.Errorf("s3 bucket %s does not exist at %s; create it first", d.bucket, where)
	}
	return nil
}

// Name implements driver.Driver.
func (d *Driver) Name() string { return "s3" }

func (d *Driver) key(p string) string { return d.prefix + p }

// dirKey is the key prefix of the directory p ("" is the root).
func (d *Driver) dirKey(p string) string {
	if p == "" {
		return d.prefix
	}
	return d.prefix + p + "/"
}

// path turns a key back into a storage path.
func (d *Driver) path(key string) string { return strings.TrimPrefix(key, d.prefix) }

// partsSuffix marks the part objects of a staged (Writer) file.
const partsSuffix = driver.Reserved + "parts/"

func (d *Driver) partsKey(p string) string { return d.key(p) + partsSuffix }

func isNotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, "NotFound", "NoSuchObject":
		return true
	}
	return minio.ToErrorResponse(err).StatusCode == http.StatusNotFound && minio.ToErrorResponse(err).Code != minio.NoSuchBucket
}

// wrap gives errors the storage path, ErrNotFound for missing objects, and the
// context's error when the context ended.
func wrap(ctx context.Context, op, p string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s %s: %w", op, p, cerr)
	}
	if errors.Is(err, driver.ErrNotFound) || isNotFound(err) {
		return fmt.Errorf("%s %s: %w", op, p, driver.ErrNotFound)
	}
	return fmt.Errorf("%s %s: s3: %w", op, p, err)
}
