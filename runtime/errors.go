package runtime

import (
	"errors"
	"fmt"
	"net/http"
)

// Error carries the HTTP status a failure maps to, so the servers never turn
// bad input into a 500.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

func newErr(status int, format string, args ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400: the request itself is wrong.
func BadRequest(format string, args ...any) error {
	return newErr(http.StatusBadRequest, format, args...)
}

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
