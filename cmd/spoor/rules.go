package main

import (
	"context"
	"errors"
	"io"
)

// runRules is not built yet.
func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("rules: not implemented yet")
}
