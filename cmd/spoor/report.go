package main

import (
	"context"
	"errors"
	"io"
)

// runReport is not built yet.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("report: not implemented yet")
}
