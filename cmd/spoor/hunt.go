package main

import (
	"context"
	"errors"
	"io"
)

// runHunt is not built yet.
func runHunt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("hunt: not implemented yet")
}
