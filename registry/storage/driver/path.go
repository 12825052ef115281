package driver

import (
	"context"
	"fmt"
	"strings"
)

// Reserved is the marker drivers use for their own bookkeeping names (temporary
// files on disk, part objects on S3). A path element containing it is refused, so
// a caller can never collide with, read or list those names.
const Reserved = ".axon-"

// CheckPath validates a storage path: relative, '/'-separated, non-empty
// elements, no "." / "..", no backslash or NUL, no reserved names.
func CheckPath(p string) error {
	if p == "" {
		return fmt.Errorf("%w: empty path", ErrInvalidPath)
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w: %q is absolute", ErrInvalidPath, p)
	}
	if strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("%w: %q has a backslash or NUL", ErrInvalidPath, p)
	}
	for _, el := range strings.Split(p, "/") {
		switch {
		case el == "":
			return fmt.Errorf("%w: %q has an empty element", ErrInvalidPath, p)
		case el == "." || el == "..":
			return fmt.Errorf("%w: %q has a %q element", ErrInvalidPath, p, el)
		case strings.Contains(el, Reserved):
			return fmt.Errorf("%w: %q uses the reserved name %q", ErrInvalidPath, p, Reserved)
		}
	}
	return nil
}

// CheckDir is CheckPath for List and Walk, where "" means the driver's root.
func CheckDir(p string) error {
	if p == "" {
		return nil
	}
	return CheckPath(p)
}

// Begin is how every driver operation starts: each path passes CheckPath, then
// ctx must not be done yet.
func Begin(ctx context.Context, paths ...string) error {
	for _, p := range paths {
		if err := CheckPath(p); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// BeginDir is Begin for List and Walk: the directory passes CheckDir.
func BeginDir(ctx context.Context, dir string) error {
	if err := CheckDir(dir); err != nil {
		return err
	}
	return ctx.Err()
}
