package main

import (
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

// openCase opens an existing store and resolves its case (see
// storeCase): the setup of the commands that read a store.
func openCase(caseFile, storeDir string, stderr io.Writer) (*caseconf.Config, *store.Store, error) {
	st, err := store.OpenExisting(storeDir)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := storeCase(st, caseFile, stderr)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// storeCase is the case a command works under. The store remembers its
// case: --case copies the file into the store (saying so when it replaces
// another), and without --case the stored one is used, so a later hunt or
// report cannot silently fall back to UTC and default business hours.
// Only a store that never had a case uses the defaults.
func storeCase(st *store.Store, caseFile string, stderr io.Writer) (*caseconf.Config, error) {
	if caseFile != "" {
		data, err := os.ReadFile(caseFile)
		if err != nil {
			return nil, err
		}
		cfg, err := caseconf.Parse(caseFile, data)
		if err != nil {
			return nil, err
		}
		sha := store.CaseSHA256(data)
		old, err := st.SaveCase(caseFile, data)
		if err != nil {
			return nil, err
		}
		switch {
		case old == nil:
			fmt.Fprintf(stderr, "case: %s (%s, %s) stored in %s, sha256 %s\n", caseFile, caseName(cfg), cfg.Timezone, st.Dir, short(sha))
		case old.SHA256 != sha:
			fmt.Fprintf(stderr, "case: %s (%s, %s) replaces the stored case (from %s, sha256 %s), now sha256 %s\n",
				caseFile, caseName(cfg), cfg.Timezone, old.Source, short(old.SHA256), short(sha))
		}
		return cfg, nil
	}
	data, entry, ok, err := st.Case()
	if err != nil {
		return nil, err
	}
	if !ok {
		fmt.Fprintln(stderr, "case: none given or stored: UTC, business hours Mon–Fri 08:00–18:00, no providers (give --case FILE)")
		return caseconf.Default(), nil
	}
	cfg, err := caseconf.Parse(st.CasePath(), data)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "case: %s (%s), stored in %s, sha256 %s\n", caseName(cfg), cfg.Timezone, st.Dir, short(entry.SHA256))
	return cfg, nil
}

func caseName(cfg *caseconf.Config) string {
	if cfg.Name == "" {
		return "unnamed case"
	}
	return cfg.Name
}

// short is a hash as people quote it.
func short(sha string) string { return sha[:min(12, len(sha))] }

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
