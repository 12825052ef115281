// Package server is axon-registry's HTTP API: the OCI Distribution Spec v1.1 on
// labstack/echo over the storage-agnostic registry/repostore, with optional bearer-token
// auth, Prometheus metrics, access logs, health and an admin GC endpoint.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/storage/driver"
	"golang.org/x/sync/semaphore"
)

// Config configures a Server.
type Config struct {
	Store  *repostore.Store
	Logger *slog.Logger
	// MaxManifestSize caps manifest bodies (413 beyond); 0 means 4 MiB.
	MaxManifestSize int64
	// Htpasswd is a bcrypt htpasswd file; empty disables auth.
	Htpasswd string
	// AnonymousRead lets clients without credentials pull when auth is on.
	AnonymousRead bool
	// Admins are the htpasswd users who may run GC (POST /admin/gc) and read
	// /metrics when auth is on: with basic auth, or a token granted the scope
	// registry:admin:*. With auth on and no admins, nobody may.
	Admins []string
	// TokenKey signs bearer tokens (HS256); empty generates one at start.
	TokenKey []byte
	// Realm overrides the token endpoint URL in challenges (default: this server's /token).
	Realm string
	// Service names this registry in tokens; default "axon-registry".
	Service string
	// GCGrace is the default grace period of the admin GC endpoint.
	GCGrace time.Duration
	// JanitorInterval is how often abandoned uploads are expired; 0 means 10 minutes.
	JanitorInterval time.Duration
	// StorageRedirect, above 0, answers blob GETs with a 307 to a storage URL
	// valid this long (S3 presigned); the storage must support it.
	StorageRedirect time.Duration
}

// Server serves the registry.
type Server struct {
	cfg     Config
	store   *repostore.Store
	log     *slog.Logger
	echo    *echo.Echo
	auth    *authenticator
	metrics *metrics
	// manifestMem bounds the manifest bodies buffered at once, in bytes
	manifestMem *semaphore.Weighted
}

// New builds a server; call Handler or Serve.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxManifestSize <= 0 {
		cfg.MaxManifestSize = 4 << 20
	}
	if cfg.Service == "" {
		cfg.Service = "axon-registry"
	}
	if cfg.GCGrace <= 0 {
		cfg.GCGrace = time.Hour
	}
	if cfg.JanitorInterval <= 0 {
		cfg.JanitorInterval = 10 * time.Minute
	}
	if cfg.StorageRedirect > 0 && !cfg.Store.CanRedirect() {
		return nil, fmt.Errorf("storage redirects need S3 storage; %s storage serves blobs itself", cfg.Store.Driver().Name())
	}
	s := &Server{cfg: cfg, store: cfg.Store, log: cfg.Logger, metrics: newMetrics(),
		manifestMem: semaphore.NewWeighted(max(manifestBudget, cfg.MaxManifestSize))}
	s.metrics.storageErrors.WithLabelValues(cfg.Store.Driver().Name()) // export 0, not nothing
	if cfg.Htpasswd != "" {
		a, err := newAuthenticator(cfg)
		if err != nil {
			return nil, err
		}
		s.auth = a
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.httpError
	e.Use(s.observe)
	e.Use(apiHeaders)
	// a bug must cost one request a 500, not the connection and any locks it held
	e.Use(middleware.Recover())
	e.Any("/v2", s.dispatch)
	e.Any("/v2/*", s.dispatch)
	e.GET("/token", s.token)
	e.POST("/token", s.token)
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()), s.adminOnly)
	e.POST("/admin/gc", s.adminGC)
	s.echo = e
	return s, nil
}

// manifestBudget is how many bytes of manifest bodies all requests together
// may hold in memory (each costs a few times its size while parsed).
const manifestBudget = 16 << 20

// Echo exposes the router so other packages (the web UI) can mount routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Authenticate checks a registry user's password (false when auth is off).
func (s *Server) Authenticate(user, pass string) bool {
	return s.auth != nil && s.auth.verify(user, pass)
}

// Login checks a password behind the failed-login throttle (per user and per
// client address): retry > 0 means refused without checking, try again then.
func (s *Server) Login(user, pass, remoteAddr string) (ok bool, retry time.Duration) {
	if s.auth == nil {
		return false, 0
	}
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ok, err = s.auth.login(user, pass, host)
	var th *errThrottled
	if errors.As(err, &th) {
		return false, th.retry
	}
	return ok, 0
}

// adminOnly guards admin routes when auth is on (Config.Admins).
func (s *Server) adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.auth == nil {
			return next(c)
		}
		p, err := s.auth.identify(c.Request())
		if s.throttled(c, err) {
			return nil
		}
		if err != nil || p == nil {
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="axon-registry"`)
			return writeError(c, errorf(http.StatusUnauthorized, codeUnauthorized, "authentication required (an admin, see --admin)"))
		}
		if !p.can("registry", "admin", "*") {
			return writeError(c, errorf(http.StatusForbidden, codeDenied, "admins only (see --admin); a token needs the scope registry:admin:*"))
		}
		c.Set("user", p.user)
		return next(c)
	}
}

// AuthEnabled reports whether --htpasswd is in force.
func (s *Server) AuthEnabled() bool { return s.auth != nil }

// AuthMiddleware guards non-registry routes (the web UI) with the registry's users:
// basic auth or a bearer token in the Authorization header. nil when auth is off.
func (s *Server) AuthMiddleware() echo.MiddlewareFunc {
	if s.auth == nil {
		return nil
	}
	return s.auth.uiMiddleware
}

// Handler is the whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve runs until ctx ends, then shuts down gracefully (in-flight requests get up to 30s).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.store.RunJanitor(jctx, s.cfg.JanitorInterval)
	hs := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("shutdown: requests still running after 30s were cut off (their clients retry): %w", err)
	}
	return nil
}

func (s *Server) httpError(err error, c echo.Context) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code := codeUnsupported
		if he.Code == http.StatusUnauthorized {
			code = codeUnauthorized
		}
		writeError(c, errorf(he.Code, code, fmt.Sprint(he.Message)))
		return
	}
	s.fail(c, err)
}

// apiCSP forbids everything a document could do: an API response opened in a
// browser (a manifest, a blob, an error) renders as an inert, sandboxed page
// even if its bytes are HTML, on the origin where the web UI's session lives.
const apiCSP = "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// apiHeaders sets nosniff on every response and the strict CSP outside the web
// UI (which sets its own policy).
func apiHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if isAPIPath(c.Request().URL.Path) {
			h.Set("Content-Security-Policy", apiCSP)
		}
		return next(c)
	}
}

func isAPIPath(p string) bool {
	for _, pre := range []string{"/v2", "/token", "/admin/", "/metrics", "/healthz"} {
		if p == pre || strings.HasPrefix(p, pre+"/") || (strings.HasSuffix(pre, "/") && strings.HasPrefix(p, pre)) {
			return true
		}
	}
	return false
}

func (s *Server) healthz(c echo.Context) error {
	code, body := s.health(c.Request().Context())
	return c.String(code, body)
}

// health answers /healthz: 200 when the storage lists, else 503 with its error.
func (s *Server) health(ctx context.Context) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.store.Driver().List(ctx, ""); err != nil && !errors.Is(err, driver.ErrNotFound) {
		return http.StatusServiceUnavailable, "storage: " + err.Error() + "\n"
	}
	return http.StatusOK, "ok\n"
}

// MetricsHandler serves GET /metrics and GET /healthz and nothing else, without
// authentication: what --metrics-addr listens with, Distribution's debug
// address. It is meant for a port only the cluster's scraper and probes reach;
// on the main listener /metrics stays admin-only while auth is on.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		code, body := s.health(r.Context())
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		io.WriteString(w, body)
	})
	return mux
}
