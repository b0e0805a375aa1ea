package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/hosts"
	"github.com/spoor-dfir/spoor/internal/timeline"
	"github.com/spoor-dfir/spoor/internal/wallclock"
)

func runTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("timeline", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (for the local-time column)")
	format := fs.String("format", "csv", "csv | jsonl | timesketch | parquet")
	from := fs.String("from", "", "start time (RFC 3339 or YYYY-MM-DD in the case zone)")
	to := fs.String("to", "", "end time, exclusive")
	host := fs.String("host", "", "only this host")
	user := fs.String("user", "", "only events/findings whose user contains this")
	minSev := fs.String("min-severity", "", "drop findings below this severity (info|low|medium|high|critical)")
	findingsOnly := fs.Bool("findings-only", false, "findings only, no events")
	demoted := fs.Bool("demoted", false, "with --min-severity: keep findings triage demoted from that severity or above")
	out := fs.String("o", "", "output file (default stdout)")
	allowStale := fs.Bool("allow-stale", false, "export even when the findings predate the last ingest")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor timeline [--store DIR] [--format csv|jsonl|timesketch|parquet] [--from T] [--to T] [--host H] [--user U] [--min-severity S [--demoted]] [--findings-only] [--allow-stale] [-o FILE]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *minSev != "" && event.Rank(*minSev) < 0 {
		return &usageError{fmt.Sprintf("--min-severity %q: want one of %v", *minSev, event.Severities)}
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	if err := staleFindings(st, *allowStale, stderr); err != nil {
		return err
	}
	// The host table makes DC01, dc01 and DC01.corp.example.de one host,
	// as ingest stored it.
	opts := timeline.Options{Host: hosts.New(cfg).Name(*host), User: *user, MinSeverity: *minSev, FindingsOnly: *findingsOnly, Demoted: *demoted, Loc: cfg.Location()}
	if opts.From, err = parseWhen(*from, cfg.Location()); err != nil {
		return &usageError{"--from: " + err.Error()}
	}
	if opts.To, err = parseWhen(*to, cfg.Location()); err != nil {
		return &usageError{"--to: " + err.Error()}
	}
	w := stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	var sink timeline.Sink
	switch *format {
	case "csv":
		sink = timeline.NewCSV(w, cfg.Location())
	case "jsonl":
		sink = timeline.NewJSONL(w, cfg.Location(), false)
	case "timesketch":
		sink = timeline.NewJSONL(w, cfg.Location(), true)
	case "parquet":
		if *out == "" {
			return &usageError{"--format parquet needs -o FILE"}
		}
		sink = timeline.NewParquet(w, cfg.Location())
	default:
		return &usageError{fmt.Sprintf("--format %q: want csv, jsonl, timesketch or parquet", *format)}
	}
	opts.Progress = timelineProgress(stderr, "timeline")
	n, err := timeline.Export(ctx, st, opts, sink)
	if err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "timeline: %d entries\n", n)
	return nil
}

// parseWhen reads RFC 3339 or a date (midnight in loc).
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	// A wall time of the case zone, placed as the ingesters place one.
	w, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		if w, err = time.Parse("2006-01-02", s); err != nil {
			return time.Time{}, fmt.Errorf("%q: want RFC 3339, YYYY-MM-DDTHH:MM or YYYY-MM-DD", s)
		}
	}
	t, _ := wallclock.Resolve(w, loc, time.Time{})
	return t, nil
}
