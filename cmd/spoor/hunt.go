package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/schollz/progressbar/v3"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/hunt"
	"github.com/spoor-dfir/spoor/internal/rule/ruleset"
	"github.com/spoor-dfir/spoor/internal/sigma"
	"github.com/spoor-dfir/spoor/internal/store"
)

func runHunt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("hunt", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (case.yaml)")
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule file or folder, spoor or Sigma (repeatable)")
	noBuiltin := fs.Bool("no-builtin", false, "do not run the built-in rule pack (spoor's rules and the SigmaHQ rules)")
	noSigma := fs.Bool("no-sigma", false, "do not run the shipped SigmaHQ rules (nor the user rules folder)")
	noTriage := fs.Bool("no-triage", false, "keep every finding at its rule's severity (no context triage)")
	noAnalyzers := fs.Bool("no-analyzers", false, "run rules only, not the stateful analyzers")
	strict := fs.Bool("strict", false, "fail when any rule does not load (default: warn and hunt with the rest)")
	keepGoing := fs.Bool("keep-going", false, "exit 0 even when a rule went over its evaluation budget or failed on every event")
	failOn := fs.String("fail-on", "", "exit 3 when a finding at or above this severity exists (info|low|medium|high|critical)")
	workers := fs.Int("workers", 0, "parallel workers (default: all cores)")
	mapping := sigmaMappingFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor hunt [--store DIR] [--case FILE] [--rules PATH]... [--sigma-mapping FILE] [--no-builtin] [--no-sigma] [--no-triage] [--no-analyzers] [--strict] [--workers N] [--fail-on SEVERITY] [--keep-going]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q (rule paths go after --rules)", fs.Arg(0))}
	}
	if err := checkFailOn(*failOn); err != nil {
		return err
	}
	if *noBuiltin && len(rulePaths) == 0 && *noAnalyzers {
		return &usageError{"nothing to run: --no-builtin and --no-analyzers without --rules"}
	}
	ls, err := loadSigmaMapping(*mapping)
	if err != nil {
		return err
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	res, err := doHunt(ctx, st, cfg, rulesetOptions(rulePaths, *noBuiltin, *noSigma, ls), *strict, hunt.Options{Workers: *workers, NoAnalyzers: *noAnalyzers, NoTriage: *noTriage}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, termSafe(res.Summary()))
	traceHunt(res, stderr)
	if err := brokenRules(res, *keepGoing, stderr); err != nil {
		return err
	}
	return failOnExit(res, *failOn)
}

// rulesetOptions are the rules of spoor hunt and spoor run: the built-in
// pack (spoor's and SigmaHQ's, and the user rules folder spoor rules
// update fills) unless turned off, and the --rules paths, Sigma rules
// compiled with the logsource mapping ls (nil: the built-in one).
func rulesetOptions(paths []string, noBuiltin, noSigma bool, ls *sigma.Logsources) ruleset.Options {
	o := ruleset.Options{Builtin: !noBuiltin, Sigma: !noBuiltin && !noSigma, Paths: paths, SigmaMapping: ls}
	if o.Sigma {
		o.UserDir = userRulesDir()
	}
	return o
}

// sigmaMappingFlag declares --sigma-mapping on a command that compiles
// Sigma rules.
func sigmaMappingFlag(fs *flag.FlagSet) *string {
	return fs.String("sigma-mapping", "", "Sigma logsource/field mapping file, merged over the built-in mapping (README: Sigma mapping files)")
}

// loadSigmaMapping reads a --sigma-mapping file: the built-in mapping
// with the file's entries merged over it, or nil without a file. A bad
// file is an error naming file:line:col.
func loadSigmaMapping(file string) (*sigma.Logsources, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return sigma.LoadLogsources(file, data)
}

// doHunt loads the rules (reporting load problems on stderr) and hunts
// the store, with a progress bar when stderr is a terminal. spoor run
// uses it too.
func doHunt(ctx context.Context, st *store.Store, cfg *caseconf.Config, ropts ruleset.Options, strict bool, opts hunt.Options, stderr io.Writer) (hunt.Result, error) {
	defer lessGC(-1, huntMemoryLimit)()
	rules, errs := ruleset.LoadWith(cfg, ropts)
	if ropts.UserDir != "" {
		if n := countFrom(rules, ropts.UserDir); n > 0 {
			fmt.Fprintf(stderr, "rules: %d SigmaHQ rules from the user rules folder %s (spoor rules update)\n", n, ropts.UserDir)
		}
	}
	for _, e := range errs {
		fmt.Fprintln(stderr, "rule:", termSafe(e.Error()))
	}
	if len(errs) > 0 {
		if strict {
			return hunt.Result{}, fmt.Errorf("%d rule load errors (--strict)", len(errs))
		}
		fmt.Fprintf(stderr, "hunt: %d rule load errors; hunting with the %d rules that loaded\n", len(errs), len(rules))
	}
	if isTerminal(stderr) && opts.Progress == nil {
		if total, err := st.CountEvents(); err == nil && total > 0 {
			bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("hunt"), progressbar.OptionThrottle(200_000_000),
				progressbar.OptionClearOnFinish())
			opts.Progress = func(n int64) { bar.Set64(n) }
			defer bar.Finish()
		}
	}
	res, err := hunt.Run(ctx, st, cfg, rules, opts)
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "hunt: warning:", termLine(w))
	}
	return res, err
}

// lessGC lets the garbage collector run less often during a hunt or an
// ingest (unless GOGC says otherwise) and returns what restores the
// setting: both allocate briskly but keep little. percent is the GOGC to
// use (-1: collect only near the memory limit). A soft memory limit of
// limit bytes (unless GOMEMLIMIT says otherwise) makes it collect when
// the heap nears it, so the headroom never pushes a run past 1 GiB.
//
// An ingest uses 300: collecting at a third of the default frequency
// makes an ingest of 1 GiB of dense real EVTX chunks take about 6% less
// CPU for about 120 MiB more. A hunt collects only near the limit: its
// live heap (the SigmaHQ pack and its automata, the findings: ~150 MiB
// when the dense real chunks collect) stays well under it on the
// benchmark corpora, and every collection marks all of it. Medians of 7 on 256 MiB of dense real chunks: GOGC=300 with a
// 640 MiB limit 1.65 s, with 768 MiB 1.53 s, collecting only at 768 MiB
// 1.40 s (peak RSS 609, 638, 740 MiB); generated: 1.39, 1.30, 1.28 s.
// Once the hunt allocated less, the dense real chunks still collected
// once at 768 MiB: at 832 MiB they do not (medians of 7: 1.08 → 1.04 s,
// 1.95 → 1.84 CPU-s, peak RSS 736 MiB either way); 1 GiB of generated
// evidence then peaks at 848 MiB (783 at 768).
func lessGC(percent int, limit int64) (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(percent)
	oldLimit := int64(-1)
	if os.Getenv("GOMEMLIMIT") == "" {
		oldLimit = debug.SetMemoryLimit(limit)
	}
	return func() {
		debug.SetGCPercent(old)
		if oldLimit >= 0 {
			debug.SetMemoryLimit(oldLimit)
		}
	}
}

// huntMemoryLimit and ingestMemoryLimit are the heap sizes near which a
// hunt and an ingest collect garbage.
const (
	huntMemoryLimit   = 832 << 20
	ingestMemoryLimit = 640 << 20
)

// traceHunt prints when each phase of the hunt ended, with
// SPOOR_HUNT_TRACE set (for profiling a slow hunt).
func traceHunt(res hunt.Result, w io.Writer) {
	if os.Getenv("SPOOR_HUNT_TRACE") == "" {
		return
	}
	p := res.Phases
	fmt.Fprintf(w, "hunt trace: scanned %v, analyzers finished %v, sorted %v, correlated %v, done %v\n",
		p.Scanned, p.Finished, p.Sorted, p.Correlated, res.Elapsed)
}
