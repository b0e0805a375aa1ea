package main

import (
	"context"
	"errors"
	"io"
)

// runTimeline is not built yet.
func runTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("timeline: not implemented yet")
}
