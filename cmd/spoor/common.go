package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/hunt"
	"github.com/spoor-dfir/spoor/internal/store"
)

// openCase loads the case config (defaults without a file) and opens an
// existing store: the setup of the commands that read a store.
func openCase(caseFile, storeDir string) (*caseconf.Config, *store.Store, error) {
	cfg, err := loadCase(caseFile)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.OpenExisting(storeDir)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// checkFailOn rejects an unknown --fail-on severity before any work is
// done, so a typo cannot hide findings behind exit code 0.
func checkFailOn(sev string) error {
	if sev != "" && event.Rank(sev) < 0 {
		return &usageError{fmt.Sprintf("--fail-on %q: want one of %s", sev, strings.Join(event.Severities, ", "))}
	}
	return nil
}

// failOnExit is the exit-code-3 error when res holds a finding at or
// above --fail-on sev, else nil.
func failOnExit(res hunt.Result, sev string) error {
	if sev != "" && res.MaxSeverity() >= event.Rank(sev) {
		return &exitCodeError{code: exitFindings, msg: fmt.Sprintf("findings at or above %s", sev)}
	}
	return nil
}

// reportPath is the -o report file, by default report.html in the store.
func reportPath(out, storeDir string) string {
	if out == "" {
		return filepath.Join(storeDir, "report.html")
	}
	return out
}

// staleFindings refuses to go on over findings hunted before the store's
// last ingest (a report would state "nothing found, based on N records"
// for records no hunt saw), unless allow is set; then it says so plainly
// on stderr.
func staleFindings(st *store.Store, allow bool, stderr io.Writer) error {
	stale, why := st.FindingsStale()
	if !stale {
		return nil
	}
	if !allow {
		return fmt.Errorf("stale findings: %s (or pass --allow-stale to go on over the old findings)", why)
	}
	fmt.Fprintf(stderr, "WARNING: stale findings: %s\n", why)
	return nil
}

// brokenRules reports the rules whose results cannot be trusted (over
// their evaluation budget, or failing on every event) by name, and is the
// exit error for them unless keepGoing; the findings of the other rules
// are stored either way.
func brokenRules(res hunt.Result, keepGoing bool, stderr io.Writer) error {
	for _, b := range res.BrokenRules {
		fmt.Fprintf(stderr, "hunt: %s\n", termLine(b))
	}
	if len(res.BrokenRules) == 0 || keepGoing {
		return nil
	}
	return fmt.Errorf("%d rules failed (see above); their findings are missing. Fix or drop them, or pass --keep-going to accept that", len(res.BrokenRules))
}
