package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/registry/repostore"
)

// adminGC runs an online garbage collection: POST /admin/gc?dry-run=true&grace=1h.
// With auth on, only admins may run it (Config.Admins).
func (s *Server) adminGC(c echo.Context) error {
	c.Set("route", "admin_gc")
	// A web page elsewhere could make the browser POST here (a simple request, no
	// preflight), to a loopback registry without auth too. Browsers say so in Origin;
	// curl and scripts send none.
	if o := c.Request().Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != c.Request().Host {
			return writeError(c, errorf(http.StatusForbidden, codeDenied, "garbage collection cannot be started from another site"))
		}
	}
	return s.adminOnly(s.runGC)(c)
}

func (s *Server) runGC(c echo.Context) error {
	q := c.Request().URL.Query()
	opts := repostore.GCOptions{GracePeriod: s.cfg.GCGrace}
	if v := q.Get("dry-run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return writeError(c, errorf(http.StatusBadRequest, codeUnsupported, "dry-run must be true or false"))
		}
		opts.DryRun = b
	}
	if v := q.Get("grace"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return writeError(c, errorf(http.StatusBadRequest, codeUnsupported, "grace must be a duration such as 1h"))
		}
		opts.GracePeriod = d
	}
	rep, err := s.store.GC(c.Request().Context(), opts)
	if err != nil {
		return s.fail(c, err)
	}
	if !rep.DryRun {
		s.metrics.gcBlobs.Add(float64(rep.BlobsDeleted))
		s.metrics.gcBytes.Add(float64(rep.BytesFreed))
	}
	return c.JSON(http.StatusOK, rep)
}
