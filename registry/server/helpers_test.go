package server

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/mlos-foundation/axon/internal/testutil"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/storage"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"github.com/mlos-foundation/axon/registry/storage/driver/fs"
)

type testServer struct {
	URL   string // http://127.0.0.1:PORT
	Host  string // 127.0.0.1:PORT
	Store *repostore.Store
	Srv   *Server
}

func quietLogger() *slog.Logger {
	if os.Getenv("AXON_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func fsDriver(t testing.TB) driver.Driver {
	t.Helper()
	d, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// s3Driver starts a real S3 server (versitygw) and opens the registry's S3 driver on it.
func s3Driver(t testing.TB) driver.Driver {
	t.Helper()
	s3 := testutil.StartS3(t)
	s3.Setenv(t)
	d, err := storage.Open(s3.URL())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// startServer serves a registry over d in-process on a loopback port.
func startServer(t testing.TB, d driver.Driver, cfg Config) *testServer {
	t.Helper()
	st := repostore.New(d, repostore.Options{Logger: quietLogger()})
	cfg.Store = st
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testServer{URL: hs.URL, Host: strings.TrimPrefix(hs.URL, "http://"), Store: st, Srv: srv}
}

// htpasswd writes a bcrypt htpasswd file with one user.
func htpasswd(t testing.TB, user, pass string) string { return testutil.Htpasswd(t, user, pass) }
