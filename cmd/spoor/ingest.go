package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/store"
)

const defaultStore = "./spoor-store"

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ingest", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (case.yaml)")
	workers := fs.Int("workers", 0, "parallel workers (default: all cores)")
	formats := fs.String("formats", "", "directory of extra declarative format definitions (YAML)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor ingest [--store DIR] [--case FILE] [--workers N] [--formats DIR] PATH...")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"no evidence PATH given"}
	}
	st, err := store.Open(*storeDir)
	if err != nil {
		return err
	}
	cfg, err := storeCase(st, *caseFile, stderr)
	if err != nil {
		return err
	}
	sum, err := doIngest(ctx, st, cfg, *workers, *formats, fs.Args(), stderr)
	fmt.Fprintln(stderr, "ingest:", sum)
	return err
}

// loadCase reads the case file, or returns the defaults.
func loadCase(file string) (*caseconf.Config, error) {
	if file == "" {
		return caseconf.Default(), nil
	}
	return caseconf.Load(file)
}

// isTerminal reports whether w is a terminal (progress bars only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func doIngest(ctx context.Context, st *store.Store, cfg *caseconf.Config, workers int, formatsDir string, paths []string, stderr io.Writer) (ingest.Summary, error) {
	defer lessGC(300, ingestMemoryLimit)()
	opts := ingest.Options{Store: st, Paths: paths, Config: cfg, Workers: workers,
		Log: func(msg string) { fmt.Fprintln(stderr, "  ", termLine(msg)) }}
	if formatsDir != "" {
		extra, err := ingest.LoadFormats(formatsDir)
		if err != nil {
			return ingest.Summary{}, err
		}
		opts.Extra = extra
	}
	if isTerminal(stderr) {
		var bar *progressbar.ProgressBar
		var mu sync.Mutex // progress comes from every parser goroutine
		opts.Progress = func(done, total, events int64) {
			mu.Lock()
			defer mu.Unlock()
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr),
					progressbar.OptionShowBytes(true), progressbar.OptionSetDescription("ingest"),
					progressbar.OptionThrottle(200_000_000), progressbar.OptionClearOnFinish())
			}
			bar.Describe(fmt.Sprintf("ingest %d events", events))
			bar.Set64(done)
		}
		defer func() {
			if bar != nil {
				bar.Finish()
			}
		}()
	}
	return ingest.Run(ctx, opts)
}
