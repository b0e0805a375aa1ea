package main

import (
	"context"
	"errors"
	"io"
)

// runQuery is not built yet.
func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("query: not implemented yet")
}
