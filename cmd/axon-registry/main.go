// Command axon-registry is a content-addressed OCI Distribution v1.1 registry with a
// web UI, on the filesystem or S3. Flags → construct → run; the logic is in registry/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	axonstore "github.com/mlos-foundation/axon/internal/store"
	"github.com/mlos-foundation/axon/internal/version"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/server"
	"github.com/mlos-foundation/axon/registry/storage"
	"github.com/mlos-foundation/axon/registry/ui"
	"github.com/spf13/cobra"
)

type options struct {
	addr            string
	root            string
	storage         string
	htpasswd        string
	anonymousRead   bool
	maxManifestSize int64
	tokenKeyFile    string
	realm           string
	withUI          bool
	logLevel        string
	uploadTTL       time.Duration
	gcGrace         time.Duration
	redirect        bool
	redirectExpiry  time.Duration
	admins          []string
	uiResync        time.Duration
	sessionKeyFile  string
	metricsAddr     string
}

func defaultRoot() string { return filepath.Join(axonstore.DefaultHome(), "registry") }

func main() {
	var o options
	root := &cobra.Command{
		Use:   "axon-registry",
		Short: "OCI Distribution v1.1 registry for axon model packages (filesystem or S3 storage)",
		Long: `axon-registry serves the OCI Distribution Spec v1.1 API (any OCI client: oras, crane,
skopeo, docker, axon) over content-addressed storage: a directory (--root) or an S3
bucket (--storage s3://BUCKET?endpoint=http://HOST:PORT&region=REGION, credentials in
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). Also: a web UI on /, Prometheus metrics on
/metrics, /healthz, and online GC on POST /admin/gc.`,
		Example: `  axon-registry --addr 127.0.0.1:5000 --root /srv/registry
  axon-registry --storage 's3://models?endpoint=http://127.0.0.1:9000&region=us-east-1'
  axon-registry --htpasswd /etc/axon/htpasswd --anonymous-read
  axon-registry gc --root /srv/registry --dry-run`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), o)
		},
	}
	root.SetVersionTemplate("axon-registry {{.Version}}\n") // as axon and mlosd print it
	f := root.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:5000", "listen address")
	f.BoolVar(&o.anonymousRead, "anonymous-read", false, "with --htpasswd, let clients without credentials pull")
	f.StringVar(&o.htpasswd, "htpasswd", "", "bcrypt htpasswd file; enables auth (bearer token flow on /token)")
	f.Int64Var(&o.maxManifestSize, "max-manifest-size", 4<<20, "largest manifest accepted, in bytes (413 beyond)")
	f.StringVar(&o.tokenKeyFile, "token-key-file", "", "file holding the token signing key (default: random per start)")
	f.StringVar(&o.realm, "token-realm", "", "token endpoint URL announced to clients (default: http(s)://HOST/token of each request)")
	f.BoolVar(&o.withUI, "ui", true, "serve the web UI on /")
	f.DurationVar(&o.uploadTTL, "upload-ttl", 24*time.Hour, "abandoned uploads are removed after this idle time")
	f.DurationVar(&o.gcGrace, "gc-grace", time.Hour, "default grace period of POST /admin/gc")
	f.BoolVar(&o.redirect, "storage-redirect", false, "S3 storage: answer blob GETs with a 307 to a presigned URL, so clients fetch from the bucket directly")
	f.DurationVar(&o.redirectExpiry, "storage-redirect-expiry", 5*time.Minute, "how long a presigned blob URL of --storage-redirect is valid (1s to 168h)")
	f.StringArrayVar(&o.admins, "admin", nil, "with --htpasswd, a user who may run POST /admin/gc and read /metrics (repeatable)")
	f.DurationVar(&o.uiResync, "ui-resync", 5*time.Second, "re-read the catalog for the web UI this often, to see what other replicas on the same storage received (0: never)")
	f.StringVar(&o.sessionKeyFile, "session-key-file", "", "file holding the web UI session signing key, shared by every replica (default: random per start)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "", "also serve /metrics and /healthz here, without auth, for a scraper (e.g. :5001 on a port only the cluster reaches)")
	pf := root.PersistentFlags()
	pf.StringVar(&o.root, "root", "", "storage directory (default $AXON_HOME/registry, AXON_HOME defaults to ~/.axon)")
	pf.StringVar(&o.storage, "storage", "", "storage URL: a directory, file:///dir or s3://BUCKET[/prefix]?endpoint=...&region=... (overrides --root)")
	pf.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")

	var dryRun bool
	var grace time.Duration
	gc := &cobra.Command{
		Use:   "gc",
		Short: "Delete blobs no manifest references (run it online with POST /admin/gc instead when the server is up)",
		Long: `gc marks every blob reachable from a manifest of any repository and deletes the
others older than --grace. Blobs pushed by a running server less than --grace ago are
spared, so it is safe beside a live server when --grace exceeds the longest push.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if grace < 0 || o.uploadTTL <= 0 {
				return errors.New("--grace must be 0 or more and --upload-ttl above 0 (durations such as 1h)")
			}
			st, err := openStore(cmd.Context(), o, true)
			if err != nil {
				return err
			}
			rep, err := st.GC(cmd.Context(), repostore.GCOptions{DryRun: dryRun, GracePeriod: grace, UploadTTL: o.uploadTTL})
			if err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		},
	}
	gc.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be deleted, delete nothing")
	gc.Flags().DurationVar(&grace, "grace", time.Hour, "spare blobs younger than this")
	gc.Flags().DurationVar(&o.uploadTTL, "upload-ttl", 24*time.Hour, "also remove uploads idle for longer")
	root.AddCommand(gc)

	// The images have no shell or curl: their HEALTHCHECK runs the binary itself.
	var healthURL string
	health := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the registry at --url answers /healthz (a container HEALTHCHECK)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return healthcheck(cmd.Context(), healthURL)
		},
	}
	health.Flags().StringVar(&healthURL, "url", "http://127.0.0.1:5000/healthz", "health endpoint to ask")
	root.AddCommand(health)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "axon-registry:", err)
		os.Exit(1)
	}
}

func logger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l, ReplaceAttr: readableDurations})), nil
}

// readableDurations writes durations as "1.5s" rather than slog's nanosecond integers.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// location is where the registry stores: --storage, else --root, else the default.
func (o options) location() string {
	switch {
	case o.storage != "":
		return o.storage
	case o.root != "":
		return o.root
	}
	return defaultRoot()
}

func healthcheck(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("healthcheck --url %q: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answers %s", u, resp.Status)
	}
	return nil
}

// readKey reads a signing key shared by replicas (a Kubernetes Secret mounted as a
// file ends in whatever the user put there, so surrounding whitespace is dropped).
func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) < 32 {
		return nil, fmt.Errorf("%s: the key must be at least 32 bytes (openssl rand -hex 32 > FILE)", path)
	}
	return b, nil
}

// redacted hides a password someone put in a storage URL, for the log.
func redacted(loc string) string {
	if u, err := url.Parse(loc); err == nil && u.User != nil {
		return u.Redacted()
	}
	return loc
}

// openStore opens and checks the storage. mustExist refuses a directory that is
// not there yet (gc on a mistyped --root would report an empty registry).
func openStore(ctx context.Context, o options, mustExist bool) (*repostore.Store, error) {
	log, err := logger(o.logLevel)
	if err != nil {
		return nil, err
	}
	loc := o.location()
	if mustExist && !strings.Contains(loc, "://") {
		if _, err := os.Stat(loc); err != nil {
			return nil, fmt.Errorf("no registry storage at %s: %w", loc, err)
		}
	}
	d, err := storage.Open(loc)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := storage.Check(cctx, d); err != nil {
		return nil, err
	}
	return repostore.New(d, repostore.Options{UploadTTL: o.uploadTTL, Logger: log}), nil
}

func serve(ctx context.Context, o options) error {
	log, err := logger(o.logLevel)
	if err != nil {
		return err
	}
	switch {
	case o.maxManifestSize <= 0:
		return fmt.Errorf("--max-manifest-size %d: give a size in bytes above 0", o.maxManifestSize)
	case o.uploadTTL <= 0:
		return fmt.Errorf("--upload-ttl %s: give a duration above 0, such as 24h", o.uploadTTL)
	case o.gcGrace < 0:
		return fmt.Errorf("--gc-grace %s: give a duration of 0 or more, such as 1h", o.gcGrace)
	case o.redirect && (o.redirectExpiry < time.Second || o.redirectExpiry > 168*time.Hour):
		return fmt.Errorf("--storage-redirect-expiry %s: give a duration from 1s to 168h, such as 5m", o.redirectExpiry)
	case o.uiResync < 0:
		return fmt.Errorf("--ui-resync %s: give a duration of 0 or more, such as 5s", o.uiResync)
	}
	if len(o.admins) > 0 && o.htpasswd == "" {
		log.Warn("--admin has no effect without --htpasswd: everyone may run GC and read /metrics")
	}
	if o.anonymousRead && o.htpasswd == "" {
		log.Warn("--anonymous-read has no effect without --htpasswd: everyone may read and write")
	}
	st, err := openStore(ctx, o, false)
	if err != nil {
		return err
	}
	// take the port before starting anything that logs, so a busy port is the only message
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.addr, err)
	}
	defer l.Close()
	var ml net.Listener
	if o.metricsAddr != "" {
		if ml, err = net.Listen("tcp", o.metricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr: listen on %s: %w", o.metricsAddr, err)
		}
		defer ml.Close()
	}
	var key []byte
	if o.tokenKeyFile != "" {
		if key, err = os.ReadFile(o.tokenKeyFile); err != nil {
			return fmt.Errorf("--token-key-file: %w", err)
		}
		if len(key) < 32 {
			return errors.New("--token-key-file: the key must be at least 32 bytes")
		}
	}
	srv, err := server.New(server.Config{
		Store: st, Logger: log, MaxManifestSize: o.maxManifestSize, Htpasswd: o.htpasswd,
		AnonymousRead: o.anonymousRead, TokenKey: key, Realm: o.realm, GCGrace: o.gcGrace,
		StorageRedirect: redirectExpiry(o),
		Admins:          o.admins,
	})
	if err != nil {
		return err
	}
	if o.withUI {
		uopts := ui.Options{Logger: log, ResyncInterval: o.uiResync}
		if o.sessionKeyFile != "" {
			if uopts.SessionKey, err = readKey(o.sessionKeyFile); err != nil {
				return fmt.Errorf("--session-key-file: %w", err)
			}
		}
		if srv.AuthEnabled() {
			uopts.Authenticate = srv.Authenticate
			uopts.Login, uopts.Revocations = srv.Login, srv.Revocations()
		}
		u, err := ui.New(st, uopts)
		if err != nil {
			return fmt.Errorf("web UI: %w", err)
		}
		defer u.Close()
		st.OnEvent(func(ev repostore.Event) {
			u.Notify(ui.Event{Action: ev.Action, Repository: ev.Repository, Tag: ev.Tag, Digest: ev.Digest})
		})
		u.Register(srv.Echo(), srv.AuthMiddleware())
	}
	if ml != nil {
		ms := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(ml)
		defer ms.Close()
		log.Info("metrics listening", "addr", ml.Addr().String())
	}
	log.Info("axon-registry listening", "addr", l.Addr().String(), "storage", st.Driver().Name(), "location", redacted(o.location()), "version", version.String(), "auth", srv.AuthEnabled())
	if err := srv.Serve(ctx, l); err != nil {
		return err
	}
	log.Info("axon-registry stopped")
	return nil
}

// redirectExpiry is the server's StorageRedirect: 0 unless --storage-redirect.
func redirectExpiry(o options) time.Duration {
	if !o.redirect {
		return 0
	}
	return o.redirectExpiry
}
