package mlos

import (
	"errors"
	"fmt"
	"net/http"
)

// Error carries the HTTP status a failure maps to, so the servers never turn
// bad input into a 500. The constructors take fmt.Errorf's verbs: a cause
// written with %w stays reachable through Unwrap, for errors.Is and errors.As
// (context.Canceled, errdef.ErrNotFound, a registry's errcode.ErrorResponse…),
// while Msg stays the one line a user reads.
type Error struct {
	Status int
	Msg    string
	// Err is what the message was made from when it wrapped causes with %w.
	Err error
	// Param names the request parameter at fault, when one is (max_new_tokens),
	// so an API with other names for it can say so without reading Msg.
	Param string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap gives errors.Is and errors.As the causes the message wrapped with %w.
func (e *Error) Unwrap() error { return e.Err }

func newErr(status int, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	e := &Error{Status: status, Msg: err.Error()}
	switch err.(type) {
	case interface{ Unwrap() error }, interface{ Unwrap() []error }:
		e.Err = err
	}
	return e
}

// BadRequest is a 400: the request itself is wrong.
func BadRequest(format string, args ...any) error {
	return newErr(http.StatusBadRequest, format, args...)
}

// BadParam is a 400 about one request parameter.
func BadParam(param, format string, args ...any) error {
	return WithParam(param, newErr(http.StatusBadRequest, format, args...))
}

// WithParam names the request parameter an error of this package is about;
// other errors are returned as they are.
func WithParam(param string, err error) error {
	if e, ok := err.(*Error); ok {
		c := *e
		c.Param = param
		return &c
	}
	return err
}

// ParamOf is the request parameter err names (the first in its chain that
// names one), or "".
func ParamOf(err error) string {
	for ; err != nil; err = errors.Unwrap(err) {
		if e, ok := err.(*Error); ok && e.Param != "" {
			return e.Param
		}
	}
	return ""
}

// ErrNotRegistered is wrapped by the 404 for a model name the manager does not
// hold ("model %q is not registered").
var ErrNotRegistered = errors.New("not registered")

// NotFound is a 404.
func NotFound(format string, args ...any) error { return newErr(http.StatusNotFound, format, args...) }

// Conflict is a 409.
func Conflict(format string, args ...any) error { return newErr(http.StatusConflict, format, args...) }

// Unprocessable is a 422: well-formed, but the content is refused.
func Unprocessable(format string, args ...any) error {
	return newErr(http.StatusUnprocessableEntity, format, args...)
}

// Unavailable is a 503 (model not ready) or an upstream failure.
func Unavailable(format string, args ...any) error {
	return newErr(http.StatusServiceUnavailable, format, args...)
}

// BadGateway is a 502: the registry (or another upstream) failed.
func BadGateway(format string, args ...any) error {
	return newErr(http.StatusBadGateway, format, args...)
}

// StatusOf maps an error to its HTTP status (500 only for the unexpected).
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}
