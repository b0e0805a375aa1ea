package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/hunt"
	"github.com/spoor-dfir/spoor/internal/report"
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
	keepGoing := fs.Bool("keep-going", false, "exit 0 even when a rule went over its evaluation budget or failed on every event")
	mapping := sigmaMappingFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor run [--store DIR] [--case FILE] [--rules PATH]... [--sigma-mapping FILE] [--fail-on SEVERITY] [--keep-going] PATH...")
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
	ls, err := loadSigmaMapping(*mapping)
	if err != nil {
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
	st, err := store.Open(*storeDir)
	if err != nil {
		return err
	}
	cfg, err := storeCase(st, *caseFile, stderr)
	if err != nil {
		return err
	}
	isum, err := doIngest(ctx, st, cfg, *workers, *formats, paths, stderr)
	fmt.Fprintln(stderr, "ingest:", isum)
	if err != nil {
		return err
	}
	res, err := doHunt(ctx, st, cfg, rulesetOptions(rulePaths, *noBuiltin, *noSigma, ls), false, hunt.Options{Workers: *workers, NoTriage: *noTriage}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, termSafe(res.Summary()))
	report := reportPath(*out, *storeDir)
	d, err := writeReport(ctx, st, cfg, report)
	if err != nil {
		return err
	}
	printRunSummary(stdout, d, res)
	fmt.Fprintf(stdout, "\nreport: %s\n", report)
	if err := brokenRules(res, *keepGoing, stderr); err != nil {
		return err
	}
	return failOnExit(res, *failOn)
}

// printRunSummary is the terminal summary: the conclusions. One line per
// incident with what its commands did, then what was not found and on
// what evidence, then findings by severity and what the evidence covered.
func printRunSummary(w io.Writer, d *report.Data, res hunt.Result) {
	fmt.Fprintf(w, "INCIDENTS (%d)\n", len(d.Incidents))
	for _, v := range d.Incidents {
		start, end := d.Local(v.Start), d.Local(v.End)
		who := strings.Join(report.People(v.Users), ", ")
		if v.Via != "" {
			who += " via " + v.Via
		}
		line := fmt.Sprintf("  %s  %-8s %s–%s  %s  %s: %s", v.ID, strings.ToUpper(v.Severity),
			start.Format("Mon 2006-01-02 15:04"), end.Format("15:04 -07:00"), termLine(strings.Join(v.Hosts, ",")), termLine(who), termLine(v.Did))
		if v.Commands > 0 {
			line += fmt.Sprintf(" (%d commands)", v.Commands)
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "NOT FOUND")
	for _, n := range d.NotFound {
		if n.Assessed {
			fmt.Fprintf(w, "  no %s — basis: %s\n", n.Short, termLine(n.BasisLine()))
		}
	}
	for _, g := range d.Summary.Gaps {
		fmt.Fprintf(w, "  %s\n", termLine(g))
	}
	by := res.BySeverity()
	fmt.Fprint(w, "FINDINGS")
	for i := len(event.Severities) - 1; i >= 0; i-- {
		s := event.Severities[i]
		fmt.Fprintf(w, "  %s %d", s, by[s])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "COVERAGE  %s %d file(s) failed, %d record(s) skipped\n", d.Summary.Coverage, d.FileTotals.Failed, d.FileTotals.SkippedRecords)
}
