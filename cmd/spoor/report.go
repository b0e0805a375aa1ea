package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/report"
	"github.com/spoor-dfir/spoor/internal/store"
)

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (case.yaml)")
	out := fs.String("o", "", "output file: .html or .md (default: STORE/report.html)")
	allowStale := fs.Bool("allow-stale", false, "write the report even when the findings predate the last ingest")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor report [--store DIR] [--case FILE] [--allow-stale] [-o FILE.html|FILE.md]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	if err := staleFindings(st, *allowStale, stderr); err != nil {
		return err
	}
	path := reportPath(*out, *storeDir)
	if _, err := writeReport(ctx, st, cfg, path); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: %s\n", path)
	return nil
}

// writeReport renders the report to path (HTML or Markdown by
// extension) and, beside it, the machine-readable appendix (every finding
// with all its evidence references) and the NIS2 annex as JSON, each
// through a temporary file so a reader never sees half a file.
func writeReport(ctx context.Context, st *store.Store, cfg *caseconf.Config, path string) (*report.Data, error) {
	d, err := report.Build(ctx, st, cfg, time.Now())
	if err != nil {
		return nil, err
	}
	render := report.HTML
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		render = report.Markdown
	}
	base := strings.TrimSuffix(path, filepath.Ext(path))
	for _, out := range []struct {
		path   string
		render func(io.Writer, *report.Data) error
	}{{path, render}, {base + ".appendix.json", report.AppendixJSON}, {base + ".nis2.json", report.NIS2JSON}} {
		if err := writeAtomic(out.path, func(w io.Writer) error { return out.render(w, d) }); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// writeAtomic writes a file readable by others (0644) under a temporary
// name and renames it into place when complete.
func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	err = f.Chmod(0o644) // a report is for others to read
	if err == nil {
		err = write(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}
