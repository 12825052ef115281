package fsutil

import (
	"context"
	"io"
)

// ContextReader returns a reader that fails with ctx's error once ctx ends,
// so that a long copy stops on ctrl-C. It hides r's WriterTo on purpose: a
// copy through it reads in the caller's buffer-sized steps.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	return ctxReader{ctx, r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
