package server

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/registry/names"
	"golang.org/x/crypto/bcrypt"
)

// Auth follows the Docker/OCI token flow: a request without a valid token gets 401
// with a Bearer challenge naming our /token endpoint and the scope it needs; the
// client trades credentials (basic auth on GET, or an OAuth2 password/refresh grant
// on POST) for a short-lived signed JWT. Basic auth straight on /v2/ also works.

const (
	accessTokenTTL  = 15 * time.Minute
	refreshTokenTTL = 30 * 24 * time.Hour
	credCacheTTL    = 5 * time.Minute
)

type authenticator struct {
	service  string
	realm    string
	anonRead bool
	key      []byte
	dummy    []byte
	admins   map[string]bool
	throttle *throttle

	// the htpasswd file, re-read when it changes: a changed or removed
	// password revokes the user's tokens (they carry its fingerprint, cv)
	path      string
	usersMu   sync.RWMutex
	users     map[string][]byte // user → bcrypt hash
	fileStamp string            // size and mtime of what users was read from
	checked   time.Time

	cacheMu   sync.Mutex
	credCache map[[32]byte]time.Time // sha256(user:pass) → verified until
}

// errThrottled: too many failed logins for this user or from this address.
type errThrottled struct{ retry time.Duration }

func (e *errThrottled) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %s", e.retry.Round(time.Second))
}

func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano())
}

// reload re-reads the htpasswd file when it changed (checked at most once a second).
func (a *authenticator) reload() {
	a.usersMu.RLock()
	fresh := time.Since(a.checked) < time.Second
	a.usersMu.RUnlock()
	if fresh {
		return
	}
	a.usersMu.Lock()
	defer a.usersMu.Unlock()
	if time.Since(a.checked) < time.Second {
		return
	}
	a.checked = time.Now()
	stamp := fileStamp(a.path)
	if stamp == a.fileStamp {
		return
	}
	users, err := readHtpasswd(a.path)
	if err != nil {
		if os.IsNotExist(errors.Unwrap(err)) || errors.Is(err, os.ErrNotExist) {
			users = map[string][]byte{} // the file is gone: nobody may log in
		} else {
			slog.Warn("htpasswd changed but cannot be read; keeping the users read before", "err", err)
			return
		}
	}
	a.users, a.fileStamp = users, stamp
	a.cacheMu.Lock()
	a.credCache = map[[32]byte]time.Time{}
	a.cacheMu.Unlock()
}

func (a *authenticator) hash(user string) []byte {
	a.reload()
	a.usersMu.RLock()
	defer a.usersMu.RUnlock()
	return a.users[user]
}

// credVersion fingerprints a user's current password hash; "" for no such user.
func (a *authenticator) credVersion(user string) string {
	h := a.hash(user)
	if h == nil {
		return ""
	}
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(user + "\x00"))
	m.Write(h)
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// login checks a password with the failed-login throttle in front of bcrypt.
func (a *authenticator) login(user, pass, addr string) (bool, error) {
	if a.cached(user, pass) {
		return true, nil
	}
	refund, retry := a.throttle.attempt(user, addr)
	if refund == nil {
		return false, &errThrottled{retry: retry}
	}
	if a.verify(user, pass) {
		refund()
		return true, nil
	}
	return false, nil
}

func (a *authenticator) cached(user, pass string) bool {
	if a.hash(user) == nil {
		return false
	}
	k := sha256.Sum256([]byte(user + "\x00" + pass))
	a.cacheMu.Lock()
	until, hit := a.credCache[k]
	a.cacheMu.Unlock()
	return hit && time.Now().Before(until)
}

func newAuthenticator(cfg Config) (*authenticator, error) {
	users, err := readHtpasswd(cfg.Htpasswd)
	if err != nil {
		return nil, err
	}
	key := cfg.TokenKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate token key: %w", err)
		}
	}
	dummy, err := bcrypt.GenerateFromPassword(key[:16], bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	admins := map[string]bool{}
	for _, u := range cfg.Admins {
		if users[u] == nil {
			return nil, fmt.Errorf("admin %q is not a user of %s", u, cfg.Htpasswd)
		}
		admins[u] = true
	}
	return &authenticator{service: cfg.Service, realm: cfg.Realm, anonRead: cfg.AnonymousRead, key: key,
		users: users, dummy: dummy, credCache: map[[32]byte]time.Time{}, admins: admins, throttle: newThrottle(),
		path: cfg.Htpasswd, fileStamp: fileStamp(cfg.Htpasswd), checked: time.Now()}, nil
}

func readHtpasswd(path string) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	defer f.Close()
	users := map[string][]byte{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		user, hash, ok := strings.Cut(l, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("htpasswd %s:%d: expected user:bcrypt-hash", path, line)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("htpasswd %s:%d: user %q: only bcrypt hashes are supported (htpasswd -B)", path, line, user)
		}
		users[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("htpasswd %s: no users", path)
	}
	return users, nil
}

// verify checks a password; successful checks are cached briefly because bcrypt
// is deliberately slow and clients may send basic auth on every request.
func (a *authenticator) verify(user, pass string) bool {
	hash := a.hash(user)
	if hash == nil {
		// spend the same time as for a real user: no probing for user names
		bcrypt.CompareHashAndPassword(a.dummy, []byte(pass))
		return false
	}
	k := sha256.Sum256([]byte(user + "\x00" + pass))
	a.cacheMu.Lock()
	until, hit := a.credCache[k]
	a.cacheMu.Unlock()
	if hit && time.Now().Before(until) {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	a.cacheMu.Lock()
	a.credCache[k] = time.Now().Add(credCacheTTL)
	a.cacheMu.Unlock()
	return true
}

type accessEntry struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

type tokenClaims struct {
	jwt.RegisteredClaims
	Access []accessEntry `json:"access,omitempty"`
	Kind   string        `json:"kind,omitempty"` // "refresh" for refresh tokens
	// CV fingerprints the password the token was granted for: a token of a
	// user whose password changed or who was removed is refused
	CV string `json:"cv,omitempty"`
}

// parseScope reads "repository:NAME:pull,push" (NAME may contain ':' for a host:port prefix).
func parseScope(s string) (accessEntry, bool) {
	typ, rest, ok := strings.Cut(s, ":")
	if !ok {
		return accessEntry{}, false
	}
	i := strings.LastIndex(rest, ":")
	if i < 0 {
		return accessEntry{}, false
	}
	name, acts := rest[:i], rest[i+1:]
	if i := strings.IndexByte(typ, '('); i >= 0 { // "repository(plugin)"
		typ = typ[:i]
	}
	var actions []string
	for _, a := range strings.Split(acts, ",") {
		if a = strings.TrimSpace(a); a != "" {
			actions = append(actions, a)
		}
	}
	return accessEntry{Type: typ, Name: name, Actions: actions}, true
}

// grant decides what a user (or "" for anonymous) gets of the requested scopes.
func (a *authenticator) grant(user string, scopes []string) []accessEntry {
	var out []accessEntry
	for _, sc := range scopes {
		for _, one := range strings.Fields(sc) {
			e, ok := parseScope(one)
			if !ok {
				continue
			}
			var granted []string
			for _, act := range e.Actions {
				switch {
				case e.Type == "registry" && e.Name == "admin":
					// GC and metrics: admins only (--admin)
					if user != "" && a.admins[user] && act == "*" {
						granted = append(granted, act)
					}
				case user != "" && (act == "pull" || act == "push" || act == "delete" || act == "*"):
					granted = append(granted, act)
				case user == "" && a.anonRead && act == "pull" && e.Type == "repository":
					granted = append(granted, act)
				case user == "" && a.anonRead && act == "*" && e.Type == "registry" && e.Name == "catalog":
					// anonymous readers may see what there is to read (the web UI lists it too)
					granted = append(granted, act)
				}
			}
			if len(granted) > 0 {
				out = append(out, accessEntry{Type: e.Type, Name: e.Name, Actions: granted})
			}
		}
	}
	return out
}

func (a *authenticator) sign(user string, access []accessEntry, kind string, ttl time.Duration) (string, time.Time, error) {
	now := time.Now()
	jti := make([]byte, 12)
	rand.Read(jti)
	claims := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: a.service, Subject: user, Audience: jwt.ClaimStrings{a.service},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), ID: hex.EncodeToString(jti),
		},
		Access: access, Kind: kind, CV: a.credVersion(user),
	}
	t, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(a.key)
	return t, now, err
}

func (a *authenticator) parse(tok string) (*tokenClaims, error) {
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(t *jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience(a.service), jwt.WithIssuer(a.service), jwt.WithExpirationRequired())
	if err != nil {
		return nil, err
	}
	return &claims, nil
}

// principal is who made a request and what they may do.
type principal struct {
	user   string
	full   bool // basic-authenticated user: every repository
	admin  bool // basic-authenticated admin
	access []accessEntry
}

func (p *principal) can(typ, name, act string) bool {
	if typ == "registry" && name == "admin" {
		if p.admin {
			return true
		}
	} else if p.full {
		return true
	}
	for _, e := range p.access {
		if e.Type == typ && e.Name == name && (slices.Contains(e.Actions, act) || slices.Contains(e.Actions, "*")) {
			return true
		}
	}
	return false
}

// identify reads the Authorization header; nil means anonymous. Never a cookie:
// a browser sends cookies with cross-site requests too, and this API deletes.
func (a *authenticator) identify(r *http.Request) (*principal, error) {
	h := r.Header.Get("Authorization")
	switch {
	case h == "":
		return nil, nil
	case len(h) > 7 && strings.EqualFold(h[:7], "bearer "):
		c, err := a.parse(strings.TrimSpace(h[7:]))
		if err != nil || c.Kind == "refresh" || c.CV != a.credVersion(c.Subject) {
			return nil, errors.New("invalid or expired token")
		}
		return &principal{user: c.Subject, access: c.Access}, nil
	case len(h) > 6 && strings.EqualFold(h[:6], "basic "):
		user, pass, ok := r.BasicAuth()
		if !ok {
			return nil, errors.New("invalid username or password")
		}
		if ok, err := a.login(user, pass, clientAddr(r)); err != nil {
			return nil, err
		} else if !ok {
			return nil, errors.New("invalid username or password")
		}
		return &principal{user: user, full: true, admin: a.admins[user]}, nil
	}
	return nil, errors.New("unsupported Authorization scheme")
}

func (a *authenticator) realmFor(r *http.Request) string {
	if a.realm != "" {
		return a.realm
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/token"
}

func (a *authenticator) challenge(c echo.Context, scope, errCode string) error {
	v := fmt.Sprintf(`Bearer realm=%q,service=%q`, a.realmFor(c.Request()), a.service)
	if scope != "" {
		v += fmt.Sprintf(`,scope=%q`, scope)
	}
	if errCode != "" {
		v += fmt.Sprintf(`,error=%q`, errCode)
	}
	c.Response().Header().Set("WWW-Authenticate", v)
	// clients print this message as it is: say what to do
	msg := "authentication required: log in to " + c.Request().Host + " first (oras login, axon login or docker login)"
	return writeError(c, errorf(http.StatusUnauthorized, codeUnauthorized, msg))
}

// scopeFor is what a route needs: the scope string for challenges, and the check.
func scopeFor(rt route, act string) (typ, name, scope string) {
	switch rt.kind {
	case rPing:
		return "", "", ""
	case rCatalog:
		return "registry", "catalog", "registry:catalog:*"
	}
	acts := act
	if act == "push" {
		acts = "pull,push"
	}
	return "repository", rt.name, "repository:" + rt.name + ":" + acts
}

// authorize lets a request through (true) or answers it with a 401 challenge (false).
func (s *Server) authorize(c echo.Context, rt route, act string) bool {
	if s.auth == nil {
		return true
	}
	p, err := s.auth.identify(c.Request())
	typ, name, scope := scopeFor(rt, act)
	if err != nil {
		if s.throttled(c, err) {
			return false
		}
		s.auth.challenge(c, scope, "invalid_token")
		return false
	}
	if p != nil {
		c.Set("user", p.user)
		c.Set("principal", p)
	}
	if rt.kind == rPing {
		// always challenge anonymous pings, even with anonymous read: `docker/oras login`
		// decides from this answer whether the credentials work
		if p != nil {
			return true
		}
		s.auth.challenge(c, "", "")
		return false
	}
	catalogAct := act
	if typ == "registry" {
		catalogAct = "*"
	}
	if p != nil && p.can(typ, name, catalogAct) {
		// a cross-repository mount also reads the source: ask for both scopes at once,
		// as Distribution does, so the client's next token covers the mount
		if from := mountFrom(c, rt); from != "" && !p.full && !p.can("repository", from, "pull") {
			s.auth.challenge(c, scope+" repository:"+from+":pull", "insufficient_scope")
			return false
		}
		return true
	}
	if p == nil && s.auth.anonRead && act == "pull" {
		return true
	}
	errCode := ""
	if p != nil {
		errCode = "insufficient_scope"
	}
	s.auth.challenge(c, scope, errCode)
	return false
}

// allowed reports whether the current request's principal may act on another repository (mount's from).
func (s *Server) allowed(c echo.Context, repo, act string) bool {
	if s.auth == nil {
		return true
	}
	if p, ok := c.Get("principal").(*principal); ok && p.can("repository", repo, act) {
		return true
	}
	return s.auth.anonRead && act == "pull"
}

// token is the token endpoint: GET (basic auth, Docker style) and POST (OAuth2 form).
func (s *Server) token(c echo.Context) error {
	c.Set("route", "token")
	if s.auth == nil {
		return c.JSON(http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "authentication is not enabled"})
	}
	a := s.auth
	req := c.Request()
	if req.Method == http.MethodPost {
		return s.tokenOAuth2(c)
	}
	q := req.URL.Query()
	user := ""
	if req.Header.Get("Authorization") != "" {
		u, p, ok := req.BasicAuth()
		if ok {
			var err error
			if ok, err = a.login(u, p, clientAddr(req)); s.throttled(c, err) {
				return nil
			}
		}
		if !ok {
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="axon-registry"`)
			return c.JSON(http.StatusUnauthorized, map[string]any{"errors": []errEntry{{Code: codeUnauthorized, Message: "invalid username or password"}}})
		}
		user = u
	}
	access := a.grant(user, q["scope"])
	tok, issued, err := a.sign(user, access, "", accessTokenTTL)
	if err != nil {
		return s.fail(c, err)
	}
	resp := map[string]any{"token": tok, "access_token": tok, "expires_in": int(accessTokenTTL.Seconds()), "issued_at": issued.UTC().Format(time.RFC3339)}
	if user != "" && q.Get("offline_token") == "true" {
		rt, _, err := a.sign(user, nil, "refresh", refreshTokenTTL)
		if err != nil {
			return s.fail(c, err)
		}
		resp["refresh_token"] = rt
	}
	return c.JSON(http.StatusOK, resp)
}

func (s *Server) tokenOAuth2(c echo.Context) error {
	a := s.auth
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, 64<<10)
	if err := req.ParseForm(); err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
	}
	f := req.PostForm
	var user string
	var refresh string
	switch f.Get("grant_type") {
	case "password":
		u, p := f.Get("username"), f.Get("password")
		ok, err := a.login(u, p, clientAddr(req))
		if s.throttled(c, err) {
			return nil
		}
		if !ok {
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_grant", "error_description": "invalid username or password"})
		}
		user = u
		rt, _, err := a.sign(user, nil, "refresh", refreshTokenTTL)
		if err != nil {
			return s.fail(c, err)
		}
		refresh = rt
	case "refresh_token":
		cl, err := a.parse(f.Get("refresh_token"))
		// bound to the password it was granted for: a changed or removed one revokes it
		if err != nil || cl.Kind != "refresh" || cl.CV == "" || cl.CV != a.credVersion(cl.Subject) {
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "invalid_grant", "error_description": "invalid refresh token"})
		}
		user = cl.Subject
		refresh = f.Get("refresh_token")
	default:
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
	}
	scopes := f["scope"]
	access := a.grant(user, scopes)
	tok, issued, err := a.sign(user, access, "", accessTokenTTL)
	if err != nil {
		return s.fail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"access_token": tok, "token": tok, "refresh_token": refresh, "expires_in": int(accessTokenTTL.Seconds()),
		"issued_at": issued.UTC().Format(time.RFC3339), "scope": strings.Join(scopes, " "), "token_type": "Bearer",
	})
}

// throttled answers 429 when err is the login throttle's; it reports whether it did.
func (s *Server) throttled(c echo.Context, err error) bool {
	var th *errThrottled
	if !errors.As(err, &th) {
		return false
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(th.retry.Round(time.Second).Seconds())))
	writeError(c, errorf(http.StatusTooManyRequests, codeTooManyRequests, th.Error()))
	return true
}

// uiMiddleware guards the web UI with the registry's users.
func (a *authenticator) uiMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.identify(c.Request())
		if err == nil && p != nil && p.user != "" {
			c.Set("user", p.user)
			return next(c)
		}
		if err == nil && p == nil && a.anonRead && (c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead) {
			return next(c)
		}
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="axon-registry"`)
		return c.String(http.StatusUnauthorized, "authentication required\n")
	}
}

// mountFrom is the source repository of a mount request, or "".
func mountFrom(c echo.Context, rt route) string {
	if rt.kind != rUploadNew || c.Request().Method != http.MethodPost {
		return ""
	}
	q := c.Request().URL.Query()
	from := q.Get("from")
	if q.Get("mount") == "" || from == "" || !names.ValidName(from) || from == rt.name {
		return ""
	}
	return from
}
