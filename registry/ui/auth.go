package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

const (
	sessionCookie = "axon_ui_session"
	ctxUser       = "ui.user"
)

func (u *UI) register(e *echo.Echo, auth echo.MiddlewareFunc) {
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/ui/static/", http.FileServer(http.FS(static)))
	e.GET("/ui/static/*", func(c echo.Context) error {
		if strings.HasSuffix(c.Request().URL.Path, "/") {
			return echo.ErrNotFound // no directory listings
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=86400")
		c.Response().Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	e.GET("/ui/login", u.loginPage)
	e.POST("/ui/login", u.login)
	e.POST("/ui/logout", u.logout)

	g := u.guard(auth)
	e.GET("/", u.home, g)
	e.GET("/ui", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, "/ui/") })
	e.GET("/ui/", u.home, g)
	e.GET("/ui/models/*", u.modelPage, g)
	e.GET("/ui/*", func(c echo.Context) error {
		// /ui/team/model is what people type; send them to the model's page
		if repo := strings.Trim(c.Param("*"), "/"); repoRE.MatchString(repo) {
			if _, ok := u.idx.repo(repo); ok {
				return c.Redirect(http.StatusFound, repoURL(repo))
			}
		}
		return u.notFound(c, "There is no such page.")
	}, g)
	e.GET("/api/repositories", u.apiList, g)
	e.GET("/api/repositories/*", u.apiRepository, g)
	e.GET("/api/stats", u.apiStats, g)
}

// guard combines the registry's auth with the UI's login (see the package doc).
func (u *UI) guard(auth echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		viaAuth := next
		if auth != nil {
			viaAuth = auth(next)
		}
		return func(c echo.Context) error {
			if u.opts.Authenticate == nil {
				return viaAuth(c)
			}
			req := c.Request()
			if user, ok := u.session(req); ok {
				c.Set(ctxUser, user)
				return next(c)
			}
			if user, pass, ok := req.BasicAuth(); ok && u.checkBasic(user, pass, req.RemoteAddr) {
				c.Set(ctxUser, user)
				return next(c)
			}
			if auth != nil {
				// The registry's own credentials (a bearer token in the Authorization header) or
				// its anonymous read. auth answers 401 by itself when it refuses; that
				// answer is dropped so that a browser is sent to the login page instead.
				if ok, err := probe(c, auth, next); ok {
					return err
				}
			}
			if strings.HasPrefix(req.URL.Path, "/api/") {
				c.Response().Header().Set("WWW-Authenticate", `Basic realm="axon-registry"`)
				return c.JSON(http.StatusUnauthorized, apiError{"authentication required"})
			}
			return c.Redirect(http.StatusSeeOther, "/ui/login?next="+url.QueryEscape(req.URL.RequestURI()))
		}
	}
}

// A session cookie is base64(user) "." expiry "." session id "." base64(HMAC-SHA256
// of the three). The id is what logout revokes (Options.Revocations).
func (u *UI) sign(user string, exp time.Time) string {
	id := make([]byte, 16)
	rand.Read(id)
	payload := base64.RawURLEncoding.EncodeToString([]byte(user)) + "." + strconv.FormatInt(exp.Unix(), 10) + "." + hex.EncodeToString(id)
	m := hmac.New(sha256.New, u.opts.SessionKey)
	m.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// parseSession checks a cookie's signature and expiry: user, id, expiry.
func (u *UI) parseSession(r *http.Request) (string, string, time.Time, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", "", time.Time{}, false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 4 {
		return "", "", time.Time{}, false
	}
	m := hmac.New(sha256.New, u.opts.SessionKey)
	m.Write([]byte(parts[0] + "." + parts[1] + "." + parts[2]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return "", "", time.Time{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return "", "", time.Time{}, false
	}
	user, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", "", time.Time{}, false
	}
	return string(user), parts[2], time.Unix(exp, 0), true
}

func (u *UI) session(r *http.Request) (string, bool) {
	user, id, _, ok := u.parseSession(r)
	if !ok || u.opts.Revocations.Revoked(id) {
		return "", false
	}
	return user, true
}

// Revocations records sessions ended by logout until they would have expired.
// The default keeps them in memory; replicas sharing a session key share
// revocations through storage (the registry server offers one).
type Revocations interface {
	Revoke(id string, until time.Time)
	Revoked(id string) bool
}

type memRevocations struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// NewMemRevocations keeps revoked sessions in this process.
func NewMemRevocations() Revocations { return &memRevocations{m: map[string]time.Time{}} }

func (r *memRevocations) Revoke(id string, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for k, t := range r.m {
		if now.After(t) {
			delete(r.m, k)
		}
	}
	r.m[id] = until
}

func (r *memRevocations) Revoked(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.m[id]
	return ok
}

func (u *UI) checkBasic(user, pass, remote string) bool {
	if u.opts.Login != nil {
		ok, _ := u.opts.Login(user, pass, remote)
		return ok
	}
	return u.opts.Authenticate(user, pass)
}

type loginData struct {
	base
	Next  string
	Name  string
	Error string
}

// safeNext keeps a post-login redirect on this site: a path of this origin,
// normalised, or the home page. Browsers drop tabs and newlines from URLs and
// read a backslash as a slash, so "/\t/host" and "/\\host" are "//host" to
// them: any control character, space or backslash is refused outright.
func safeNext(next string) string {
	const home = "/ui/"
	if strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return home
	}
	p, err := url.Parse(next)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil || p.Opaque != "" || !strings.HasPrefix(p.Path, "/") {
		return home
	}
	clean := path.Clean(p.Path) // "/%2F/host" decodes to "///host": one slash left
	if strings.HasSuffix(p.Path, "/") && clean != "/" {
		clean += "/"
	}
	out := (&url.URL{Path: clean, RawQuery: p.RawQuery}).String()
	if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
		return home
	}
	return out
}

func (u *UI) loginPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if u.opts.Authenticate == nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	if _, ok := u.session(c.Request()); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return u.render(c, http.StatusOK, u.pages.login, loginData{base: u.base(c, "Log in"), Next: next})
}

func (u *UI) login(c echo.Context) error {
	next := safeNext(c.FormValue("next"))
	if u.opts.Authenticate == nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	user, pass := c.FormValue("user"), c.FormValue("password")
	ok := false
	if user != "" && u.opts.Login != nil {
		var retry time.Duration
		if ok, retry = u.opts.Login(user, pass, c.Request().RemoteAddr); retry > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
			return u.render(c, http.StatusTooManyRequests, u.pages.login, loginData{
				base: u.base(c, "Log in"), Next: next, Name: user, Error: "Too many failed logins. Try again later.",
			})
		}
	} else if user != "" {
		ok = u.opts.Authenticate(user, pass)
	}
	if !ok {
		u.log.Info("ui login failed", "user", user, "remote", c.RealIP())
		return u.render(c, http.StatusUnauthorized, u.pages.login, loginData{
			base: u.base(c, "Log in"), Next: next, Name: user, Error: "Wrong user name or password.",
		})
	}
	exp := time.Now().Add(u.opts.SessionTTL)
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: u.sign(user, exp), Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https", // also behind a TLS proxy (X-Forwarded-Proto)
	})
	return c.Redirect(http.StatusSeeOther, next)
}

func (u *UI) logout(c echo.Context) error {
	// the cookie is revoked on the server, not only deleted from this browser
	if _, id, exp, ok := u.parseSession(c.Request()); ok {
		u.opts.Revocations.Revoke(id, exp)
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/ui/login")
}

// probe runs next behind auth and reports whether auth let the request through.
// What auth writes when it refuses is discarded.
func probe(c echo.Context, auth echo.MiddlewareFunc, next echo.HandlerFunc) (bool, error) {
	res := c.Response()
	orig := res.Writer
	sink := &discard{header: http.Header{}}
	res.Writer = sink
	passed := false
	err := auth(func(c echo.Context) error {
		passed = true
		res.Writer = orig
		if user, ok := c.Get("user").(string); ok && user != "" {
			c.Set(ctxUser, user)
		}
		return next(c)
	})(c)
	if passed {
		return true, err
	}
	res.Writer, res.Committed, res.Status, res.Size = orig, false, http.StatusOK, 0
	return false, nil
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}
