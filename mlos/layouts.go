package mlos

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Forbidden is a 403: the request is understood and refused by policy.
func Forbidden(format string, args ...any) error {
	return newErr(http.StatusForbidden, format, args...)
}

// layoutAllowed refuses oci-layout:// references outside the directories the
// operator allowed (Options.AllowLayouts), so a client cannot make mlosd read
// any OCI layout on the server's disk. The answer is the same whether the
// path exists or not: it must not become a probe of the server's files.
func (m *Manager) layoutAllowed(r Ref) error {
	if r.Layout == "" || !m.opts.RestrictLayouts {
		return nil
	}
	deny := Forbidden("oci-layout references are allowed only under the directories mlosd was started with (--allow-layout); %s is not one of them", r.Layout)
	if !filepath.IsAbs(r.Layout) {
		return BadRequest("oci-layout path %q must be absolute", r.Layout)
	}
	p, err := filepath.EvalSymlinks(filepath.Clean(r.Layout))
	if err != nil {
		return deny
	}
	for _, dir := range m.opts.AllowLayouts {
		root, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(root, p); err == nil && filepath.IsLocal(rel) || rel == "." {
			return nil
		}
	}
	return deny
}

// scrubbedError keeps an error's status but hides the server's own paths
// (the data directory, the allowed layout roots) from its message.
type scrubbedError struct {
	err error
	msg string
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// scrub rewrites err so that no absolute server path the client did not send
// reaches it: the data directory becomes "<data>" and an unexpected error
// (a 500) keeps its words but not its paths; the full error goes to the log.
func (m *Manager) scrub(op string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if m.opts.DataDir != "" {
		if abs, aerr := filepath.Abs(m.opts.DataDir); aerr == nil {
			msg = strings.ReplaceAll(msg, abs, "<data>")
		}
		msg = strings.ReplaceAll(msg, m.opts.DataDir, "<data>")
	}
	var rerr *Error
	if !errors.As(err, &rerr) {
		m.log.Error(op+" failed", "err", err)
		return &Error{Status: http.StatusInternalServerError, Msg: fmt.Sprintf("%s failed on the server: %s", op, hidePaths(msg))}
	}
	if msg == err.Error() {
		return err
	}
	return &scrubbedError{err: err, msg: msg}
}

// absPath matches an absolute path in a message (after a space, a quote or
// at the start).
var absPath = regexp.MustCompile(`(^|[\s"'(])/[^\s"':,)]+`)

// hidePaths replaces the absolute paths left in an internal error.
func hidePaths(msg string) string { return absPath.ReplaceAllString(msg, "${1}<path>") }

// discardUnpacked removes a package's unpacked files after a failed
// registration, unless a registered model is served from them.
func (m *Manager) discardUnpacked(pkg *Package) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, model := range m.models {
		if model.Dir == pkg.Dir {
			return
		}
	}
	if err := os.RemoveAll(pkg.Dir); err != nil {
		m.log.Warn("remove unpacked package", "dir", pkg.Dir, "err", err)
	}
}
