package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/mlos-foundation/axon/registry/names"
	"github.com/mlos-foundation/axon/registry/repostore"
	"github.com/mlos-foundation/axon/registry/storage/driver"
)

// OCI error codes (distribution-spec "Error Codes").
const (
	codeBlobUnknown         = "BLOB_UNKNOWN"
	codeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	codeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	codeDigestInvalid       = "DIGEST_INVALID"
	codeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	codeManifestInvalid     = "MANIFEST_INVALID"
	codeManifestUnknown     = "MANIFEST_UNKNOWN"
	codeNameInvalid         = "NAME_INVALID"
	codeNameUnknown         = "NAME_UNKNOWN"
	codeSizeInvalid         = "SIZE_INVALID"
	codeUnauthorized        = "UNAUTHORIZED"
	codeDenied              = "DENIED"
	codeUnsupported         = "UNSUPPORTED"
	codeUnknown             = "UNKNOWN"
	codeUnavailable         = "UNAVAILABLE"     // Docker's code for 503
	codeTooManyRequests     = "TOOMANYREQUESTS" // Docker's code for 429
)

// apiError is an error response in the spec's JSON shape.
type apiError struct {
	Status  int
	Code    string
	Message string
	Detail  any
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

type errBody struct {
	Errors []errEntry `json:"errors"`
}

type errEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

func writeError(c echo.Context, e *apiError) error {
	if c.Response().Committed {
		return nil
	}
	if c.Request().Method == http.MethodHead {
		return c.NoContent(e.Status)
	}
	b, _ := json.Marshal(errBody{Errors: []errEntry{{Code: e.Code, Message: e.Message, Detail: e.Detail}}})
	// Set, not echo's default-if-unset: a blob GET has already announced
	// application/octet-stream by the time its range turns out unsatisfiable.
	c.Response().Header().Set(echo.HeaderContentType, "application/json")
	return c.Blob(e.Status, "application/json", b)
}

// classify maps store, name and driver errors to spec errors; anything else is a 500.
func (s *Server) classify(c echo.Context, err error) *apiError {
	var ae *apiError
	var bu *repostore.BlobUnknownError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &bu):
		return &apiError{Status: http.StatusBadRequest, Code: codeManifestBlobUnknown, Message: err.Error(), Detail: map[string]string{"digest": bu.Digest.String()}}
	case errors.Is(err, names.ErrName):
		return errorf(http.StatusBadRequest, codeNameInvalid, err.Error())
	case errors.Is(err, names.ErrTag):
		return errorf(http.StatusBadRequest, codeManifestInvalid, err.Error())
	case errors.Is(err, names.ErrDigest), errors.Is(err, names.ErrUnsupported), errors.Is(err, repostore.ErrDigestMismatch):
		return errorf(http.StatusBadRequest, codeDigestInvalid, err.Error())
	case errors.Is(err, repostore.ErrBlobUnknown):
		return errorf(http.StatusNotFound, codeBlobUnknown, err.Error())
	case errors.Is(err, repostore.ErrManifestUnknown):
		return errorf(http.StatusNotFound, codeManifestUnknown, err.Error())
	case errors.Is(err, repostore.ErrNameUnknown):
		return errorf(http.StatusNotFound, codeNameUnknown, err.Error())
	case errors.Is(err, repostore.ErrUploadUnknown):
		return errorf(http.StatusNotFound, codeBlobUploadUnknown, err.Error())
	case errors.Is(err, repostore.ErrRangeInvalid):
		return errorf(http.StatusRequestedRangeNotSatisfiable, codeBlobUploadInvalid, err.Error())
	case errors.Is(err, repostore.ErrUploadInvalid):
		return errorf(http.StatusBadRequest, codeBlobUploadInvalid, err.Error())
	case errors.Is(err, repostore.ErrManifestInvalid):
		return errorf(http.StatusBadRequest, codeManifestInvalid, err.Error())
	case errors.Is(err, repostore.ErrBodyRead):
		return errorf(http.StatusBadRequest, codeBlobUploadInvalid, err.Error())
	case errors.Is(err, repostore.ErrSizeInvalid):
		return errorf(http.StatusBadRequest, codeSizeInvalid, err.Error())
	case errors.Is(err, repostore.ErrGCRunning):
		return errorf(http.StatusConflict, codeUnsupported, err.Error())
	case errors.Is(err, repostore.ErrRetry):
		c.Response().Header().Set("Retry-After", "5")
		return errorf(http.StatusServiceUnavailable, codeUnavailable, err.Error())
	case errors.Is(err, driver.ErrInvalidPath):
		return errorf(http.StatusBadRequest, codeNameInvalid, "invalid name: "+err.Error())
	case errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
		// the client went away; nobody reads this answer
		return errorf(499, codeUnknown, "client closed request")
	}
	s.metrics.storageErrors.WithLabelValues(s.store.Driver().Name()).Inc()
	s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	return errorf(http.StatusInternalServerError, codeUnknown, "internal error; see the registry log")
}

func (s *Server) fail(c echo.Context, err error) error {
	return writeError(c, s.classify(c, err))
}
