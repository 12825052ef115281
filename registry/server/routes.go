package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/registry/names"
)

// route kinds, also the "route" label of metrics (bounded cardinality)
const (
	rPing      = "ping"
	rCatalog   = "catalog"
	rTags      = "tags"
	rManifest  = "manifest"
	rBlob      = "blob"
	rUploadNew = "upload_start"
	rUpload    = "upload"
	rReferrers = "referrers"
	rNotFound  = "unknown"
)

// route is a parsed /v2/ URL. Repository names contain slashes, so the path is
// read from the end: the last elements decide the kind, the rest is the name.
type route struct {
	kind string
	name string
	arg  string // reference, digest or upload id
}

func parseRoute(p string) route {
	rest, ok := strings.CutPrefix(p, "/v2")
	if !ok {
		return route{kind: rNotFound}
	}
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		return route{kind: rPing}
	}
	if rest == "_catalog" {
		return route{kind: rCatalog}
	}
	el := strings.Split(rest, "/")
	n := len(el)
	join := func(k int) string { return strings.Join(el[:k], "/") }
	switch {
	case n >= 3 && el[n-2] == "tags" && el[n-1] == "list":
		return route{kind: rTags, name: join(n - 2)}
	case n >= 4 && el[n-3] == "blobs" && el[n-2] == "uploads" && el[n-1] == "":
		return route{kind: rUploadNew, name: join(n - 3)}
	case n >= 3 && el[n-2] == "blobs" && el[n-1] == "uploads":
		return route{kind: rUploadNew, name: join(n - 2)}
	case n >= 4 && el[n-3] == "blobs" && el[n-2] == "uploads":
		return route{kind: rUpload, name: join(n - 3), arg: el[n-1]}
	case n >= 3 && el[n-2] == "blobs":
		return route{kind: rBlob, name: join(n - 2), arg: el[n-1]}
	case n >= 3 && el[n-2] == "manifests":
		return route{kind: rManifest, name: join(n - 2), arg: el[n-1]}
	case n >= 3 && el[n-2] == "referrers":
		return route{kind: rReferrers, name: join(n - 2), arg: el[n-1]}
	}
	return route{kind: rNotFound}
}

// action is the token scope action a request needs.
func action(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "pull"
	case http.MethodDelete:
		return "delete"
	}
	return "push"
}

func (s *Server) dispatch(c echo.Context) error {
	req := c.Request()
	rt := parseRoute(req.URL.Path)
	c.Set("route", rt.kind)
	c.Response().Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if rt.kind == rNotFound {
		return writeError(c, errorf(http.StatusNotFound, codeNameUnknown, "no such endpoint"))
	}
	if !s.authorize(c, rt, action(req.Method)) {
		return nil
	}
	if rt.name != "" && !names.ValidName(rt.name) {
		return writeError(c, errorf(http.StatusBadRequest, codeNameInvalid, "invalid repository name"))
	}
	if h := handlers[rt.kind][req.Method]; h != nil {
		return h(s, c, rt)
	}
	return writeError(c, errorf(http.StatusMethodNotAllowed, codeUnsupported, "method "+req.Method+" not allowed here"))
}

type handler func(s *Server, c echo.Context, rt route) error

// handlers is the method table of each route kind; a method not in it gets 405.
var handlers = map[string]map[string]handler{
	rPing: {
		http.MethodGet:  ping,
		http.MethodHead: ping,
	},
	rCatalog: {http.MethodGet: func(s *Server, c echo.Context, _ route) error { return s.catalog(c) }},
	rTags:    {http.MethodGet: (*Server).tagsList},
	rManifest: {
		http.MethodGet:    (*Server).getManifest,
		http.MethodHead:   (*Server).getManifest,
		http.MethodPut:    (*Server).putManifest,
		http.MethodDelete: (*Server).deleteManifest,
	},
	rBlob: {
		http.MethodGet:    (*Server).getBlob,
		http.MethodHead:   (*Server).getBlob,
		http.MethodDelete: (*Server).deleteBlob,
	},
	rUploadNew: {http.MethodPost: (*Server).startUpload},
	rUpload: {
		http.MethodGet:    (*Server).uploadStatus,
		http.MethodPatch:  (*Server).patchUpload,
		http.MethodPut:    (*Server).putUpload,
		http.MethodDelete: (*Server).cancelUpload,
	},
	rReferrers: {http.MethodGet: (*Server).referrers},
}

func ping(_ *Server, c echo.Context, _ route) error { return c.JSON(http.StatusOK, struct{}{}) }
