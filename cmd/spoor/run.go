package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/hunt"
	"github.com/spoor-dfir/spoor/internal/store"
)

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("run", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (default: case.yaml in a case folder)")
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "extra rule file or folder, spoor or Sigma (repeatable)")
	noBuiltin := fs.Bool("no-builtin", false, "do not run the built-in rule pack (spoor's rules and the SigmaHQ rules)")
	noSigma := fs.Bool("no-sigma", false, "do not run the shipped SigmaHQ rules (nor the user rules folder)")
	noTriage := fs.Bool("no-triage", false, "keep every finding at its rule's severity (no context triage)")
	workers := fs.Int("workers", 0, "parallel workers (default: all cores)")
	formats := fs.String("formats", "", "directory of extra declarative format definitions")
	out := fs.String("o", "", "report file, .html or .md (default: STORE/report.html)")
	failOn := fs.String("fail-on", "", "exit 3 when a finding at or above this severity exists")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor run [--store DIR] [--case FILE] [--rules PATH]... [--fail-on SEVERITY] PATH...")
		fmt.Fprintln(stderr, "A case folder (case.yaml beside an evidence/ folder) may be given as the only PATH.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"no evidence PATH given"}
	}
	if err := checkFailOn(*failOn); err != nil {
		return err
	}
	paths := fs.Args()
	if len(paths) == 1 {
		// A case folder: case.yaml is the case, evidence/ the evidence.
		// Anything else beside them (an answer key, notes) is not evidence.
		if *caseFile == "" {
			if _, err := os.Stat(filepath.Join(paths[0], "case.yaml")); err == nil {
				*caseFile = filepath.Join(paths[0], "case.yaml")
			}
		}
		if st, err := os.Stat(filepath.Join(paths[0], "evidence")); err == nil && st.IsDir() && *caseFile != "" {
			paths = []string{filepath.Join(paths[0], "evidence")}
		}
	}
	cfg, err := loadCase(*caseFile)
	if err != nil {
		return err
	}
	if *caseFile != "" {
		fmt.Fprintf(stderr, "case: %s (%s, %s)\n", *caseFile, cfg.Name, cfg.Timezone)
	}
	st, err := store.Open(*storeDir)
	if err != nil {
		return err
	}
	isum, err := doIngest(ctx, st, cfg, *workers, *formats, paths, stderr)
	fmt.Fprintln(stderr, "ingest:", isum)
	if err != nil {
		return err
	}
	res, err := doHunt(ctx, st, cfg, rulesetOptions(rulePaths, *noBuiltin, *noSigma), false, hunt.Options{Workers: *workers, NoTriage: *noTriage}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, res.Summary())
	report := reportPath(*out, *storeDir)
	if err := writeReport(ctx, st, cfg, report); err != nil {
		return err
	}
	printRunSummary(stdout, st, cfg, res)
	fmt.Fprintf(stdout, "\nreport: %s\n", report)
	return failOnExit(res, *failOn)
}

// printRunSummary is the terminal summary: incidents first, then
// findings by severity, then what the evidence covered.
func printRunSummary(w io.Writer, st *store.Store, cfg *caseconf.Config, res hunt.Result) {
	loc := cfg.Location()
	fmt.Fprintf(w, "INCIDENTS (%d)\n", len(res.Incidents))
	for _, inc := range res.Incidents {
		fmt.Fprintf(w, "  %s  %-8s %s – %s  %s  %s\n", inc.ID, strings.ToUpper(inc.Severity),
			inc.Start.In(loc).Format("Mon 2006-01-02 15:04 -07:00"), inc.End.In(loc).Format("15:04"),
			strings.Join(inc.Hosts, ","), inc.Title)
		if inc.Narrative != "" {
			fmt.Fprintf(w, "      %s\n", cell(inc.Narrative, 300))
		}
	}
	by := res.BySeverity()
	fmt.Fprint(w, "FINDINGS")
	for i := len(event.Severities) - 1; i >= 0; i-- {
		s := event.Severities[i]
		fmt.Fprintf(w, "  %s %d", s, by[s])
	}
	fmt.Fprintln(w)
	m := st.Manifest()
	var ingested, failed int
	var skipped int64
	for _, f := range m.Files {
		switch f.Status {
		case store.StatusIngested:
			ingested++
			skipped += f.Skipped
		case store.StatusFailed:
			failed++
		}
	}
	fmt.Fprintf(w, "COVERAGE  %d events from %d files (%d failed, %d records skipped), zone %s\n", m.TotalRecords(), ingested, failed, skipped, cfg.Timezone)
}
