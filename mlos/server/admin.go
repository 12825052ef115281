package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/mlos/api"
)

// AdminOptions guard the imperative API: POST /models, DELETE /models/{name},
// POST /v2/repository/models/{name}/load and /unload. Inference, listing and
// health stay open.
type AdminOptions struct {
	// Token, when set, is required as "Authorization: Bearer TOKEN" (compared in
	// constant time).
	Token string
	// Disabled turns the imperative API off (403): models come only from the
	// configuration (mlosd --model, --models, --model-dir).
	Disabled bool
}

// isAdmin reports whether a request changes what the server serves.
func isAdmin(r *http.Request) bool {
	p := r.URL.Path
	switch r.Method {
	case http.MethodPost:
		return p == "/models" || p == "/models/" || strings.HasPrefix(p, "/v2/repository/models/")
	case http.MethodDelete:
		return strings.HasPrefix(p, "/models/")
	}
	return false
}

func adminGuard(o AdminOptions) echo.MiddlewareFunc {
	want := sha256.Sum256([]byte(o.Token))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !isAdmin(r) {
				return next(c)
			}
			if o.Disabled {
				return c.JSON(http.StatusForbidden, api.ErrorResponse{Error: "the admin API is off (mlosd --admin-api=false): models are declared with --model, --models or --model-dir"})
			}
			if o.Token == "" {
				return next(c)
			}
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			// Hashing first makes the comparison constant-time whatever the lengths.
			got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
			if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="mlosd admin"`)
				return c.JSON(http.StatusUnauthorized, api.ErrorResponse{Error: "the admin API needs Authorization: Bearer TOKEN (mlosd --admin-token)"})
			}
			return next(c)
		}
	}
}
