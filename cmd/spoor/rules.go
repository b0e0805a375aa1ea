package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/rule/ruleset"
	"github.com/spoor-dfir/spoor/internal/sigma"
	"github.com/spoor-dfir/spoor/internal/sqlexport"
)

const rulesUsage = `usage: spoor rules list [--case FILE] [--sigma-mapping FILE] [--format table|jsonl] [PATH...]
       spoor rules lint [--case FILE] [--sigma-mapping FILE] [PATH...]
       spoor rules test [--case FILE] [--sigma-mapping FILE] [PATH...]
       spoor rules update [--to DIR] PATH
       spoor rules export --sql duckdb|spark|trino [--case FILE] [--rules PATH]... [--no-builtin]
                          [--store DIR|TABLE] [--per-rule] [-o FILE]

Without PATH the built-in rule pack is used: spoor's rules, the SigmaHQ
Windows rules shipped in the binary (DRL 1.1, see rules/sigma/NOTICE) and the user
rules folder. PATH is a rule file or a folder (walked for *.yml, *.yaml),
spoor or Sigma rules.

update copies the Windows rules of a SigmaHQ checkout or release archive
(.zip, .tar.gz) into the user rules folder (default: $SPOOR_RULES_DIR, else
spoor/rules in the user config folder), where hunts find them: a rule
there replaces the shipped rule with its ID.`

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, rulesUsage)
		if len(args) == 0 {
			return &usageError{"missing subcommand: list, lint, test or export"}
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	if sub == "update" {
		return rulesUpdate(rest, stdout, stderr)
	}
	if sub == "export" {
		return rulesExport(rest, stdout, stderr)
	}
	fs := newFlagSet("rules "+sub, stderr)
	caseFile := fs.String("case", "", "case config the rules are compiled for (case.yaml)")
	mapping := sigmaMappingFlag(fs)
	format := "table"
	if sub == "list" {
		fs.StringVar(&format, "format", "table", "output format: table or jsonl")
	}
	fs.Usage = func() {
		fmt.Fprintln(stderr, rulesUsage)
		fs.PrintDefaults()
	}
	switch sub {
	case "list", "lint", "test":
	default:
		return &usageError{fmt.Sprintf("unknown subcommand %q: want list, lint, test, update or export", sub)}
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if format != "table" && format != "jsonl" {
		return &usageError{fmt.Sprintf("--format %q: want table or jsonl", format)}
	}
	cfg, err := loadCase(*caseFile)
	if err != nil {
		return err
	}
	ls, err := loadSigmaMapping(*mapping)
	if err != nil {
		return err
	}
	rules, errs := loadRuleArgs(cfg, ls, fs.Args())
	switch sub {
	case "list":
		var an []analyzers.Info
		if len(fs.Args()) == 0 { // the built-in pack: the analyzers run beside it
			an = analyzers.Describe()
		}
		return rulesList(rules, an, errs, format, stdout, stderr)
	case "lint":
		return rulesLint(rules, errs, stdout, stderr)
	default:
		return rulesTest(rules, errs, stdout, stderr)
	}
}

func loadRuleArgs(cfg *caseconf.Config, ls *sigma.Logsources, paths []string) ([]*rule.Rule, []error) {
	if len(paths) == 0 {
		return ruleset.LoadWith(cfg, rulesetOptions(nil, false, false, ls))
	}
	return ruleset.LoadWith(cfg, ruleset.Options{Paths: paths, SigmaMapping: ls})
}

func rulesList(rules []*rule.Rule, an []analyzers.Info, errs []error, format string, stdout, stderr io.Writer) error {
	if format == "jsonl" {
		enc := json.NewEncoder(stdout)
		for _, r := range rules {
			tags := r.Tags
			if tags == nil {
				tags = []string{}
			}
			if err := enc.Encode(struct {
				ID       string   `json:"id"`
				Title    string   `json:"title"`
				Kind     string   `json:"kind"`
				Severity string   `json:"severity"`
				File     string   `json:"file"`
				Line     int      `json:"line"`
				Tags     []string `json:"tags"`
				Tests    int      `json:"tests"`
				Source   string   `json:"source"`
				License  string   `json:"license,omitempty"`
				Author   string   `json:"author,omitempty"`
			}{r.ID, r.Title, r.Kind, r.Severity, r.File, r.Line, tags, len(r.Tests), r.Source, r.License, r.Author}); err != nil {
				return err
			}
		}
		for _, a := range an {
			if err := enc.Encode(struct {
				ID       string `json:"id"`
				Title    string `json:"title"`
				Kind     string `json:"kind"`
				Severity string `json:"severity"`
				File     string `json:"file"`
			}{a.Name, a.What, "analyzer", "varies", "analyzers/" + a.Name}); err != nil {
				return err
			}
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tSEVERITY\tSOURCE\tLICENSE\tTITLE\tFILE")
		for _, r := range rules {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s:%d\n", r.ID, r.Kind, r.Severity, orDash(r.Source), orDash(r.License), r.Title, r.File, r.Line)
		}
		for _, a := range an {
			fmt.Fprintf(tw, "%s\tanalyzer\tvaries\t%s\tanalyzers/%s\n", a.Name, a.What, a.Name)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, e := range errs {
		fmt.Fprintln(stderr, "failed:", e)
	}
	if len(errs) > 0 {
		fmt.Fprintf(stderr, "rules list: %d rules, %d failed to load\n", len(rules), len(errs))
	}
	return nil
}

func rulesLint(rules []*rule.Rule, errs []error, stdout, stderr io.Writer) error {
	for _, e := range errs {
		fmt.Fprintln(stderr, e)
	}
	untested := 0
	for _, r := range rules {
		if len(r.Tests) == 0 && (r.Kind == rule.KindSpoor || r.Kind == rule.KindThreshold) {
			untested++
			fmt.Fprintf(stderr, "%s:%d: warning: rule %s has no tests\n", r.File, r.Line, r.ID)
		}
	}
	fmt.Fprintf(stderr, "rules lint: %d rules ok, %d errors, %d without tests\n", len(rules), len(errs), untested)
	if len(errs) > 0 {
		return &exitCodeError{code: exitError}
	}
	return nil
}

func rulesTest(rules []*rule.Rule, errs []error, stdout, stderr io.Writer) error {
	for _, e := range errs {
		fmt.Fprintln(stderr, e)
	}
	nTests, failed, failedRules := 0, 0, 0
	for _, r := range rules {
		if len(r.Tests) == 0 {
			fmt.Fprintf(stdout, "----  %s (no tests)\n", r.ID)
			continue
		}
		res, err := rule.RunTests(r)
		if err != nil {
			failedRules++
			fmt.Fprintf(stdout, "FAIL  %s: %v\n", r.ID, err)
			continue
		}
		var bad []string
		for _, x := range res {
			nTests++
			if !x.Pass {
				failed++
				bad = append(bad, fmt.Sprintf("      %s:%d: %q: %s", r.File, x.Test.Line, x.Test.Name, x.Got))
			}
		}
		if len(bad) > 0 {
			failedRules++
			fmt.Fprintf(stdout, "FAIL  %s (%d of %d tests failed)\n%s\n", r.ID, len(bad), len(res), strings.Join(bad, "\n"))
		} else {
			fmt.Fprintf(stdout, "ok    %s (%d tests)\n", r.ID, len(res))
		}
	}
	fmt.Fprintf(stderr, "rules test: %d rules, %d tests, %d failed, %d load errors\n", len(rules), nTests, failed, len(errs))
	if failed > 0 || failedRules > 0 || len(errs) > 0 {
		return &exitCodeError{code: exitError}
	}
	return nil
}

// rulesExport compiles the single-event rules to SQL over the store's
// layout and lists, on stderr and in the SQL's header, the rules that
// cannot be expressed.
func rulesExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rules export", stderr)
	dialect := fs.String("sql", "", "SQL dialect: duckdb, spark or trino (required)")
	caseFile := fs.String("case", "", "case config the rules are compiled for (case.yaml): providers, hours, window")
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "rule file or folder, spoor or Sigma (repeatable)")
	noBuiltin := fs.Bool("no-builtin", false, "leave out the built-in rule pack")
	storeRef := fs.String("store", "", "the store the queries read: a path or URL (duckdb, spark; default STORE) or a table name (trino; default events)")
	perRule := fs.Bool("per-rule", false, "one query per rule instead of one query that reads the events once")
	out := fs.String("o", "", "write the SQL here instead of stdout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, rulesUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q (rule paths go after --rules)", fs.Arg(0))}
	}
	d, err := sqlexport.ParseDialect(*dialect)
	if err != nil {
		return &usageError{"--sql: " + err.Error()}
	}
	if *noBuiltin && len(rulePaths) == 0 {
		return &usageError{"nothing to export: --no-builtin without --rules"}
	}
	cfg, err := loadCase(*caseFile)
	if err != nil {
		return err
	}
	rules, errs := ruleset.Load(cfg, rulePaths, !*noBuiltin)
	for _, e := range errs {
		fmt.Fprintln(stderr, "rule:", e)
	}
	ex := sqlexport.Compile(d, cfg, rules, ruleset.ReadSource)
	ref := *storeRef
	if ref == "" && d != sqlexport.Trino {
		ref = "STORE"
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := ex.WriteSQL(w, d.Events(ref), *perRule); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "export:", ex.Summary())
	for _, s := range ex.Skipped {
		fmt.Fprintf(stderr, "  not exported: %s (%s): %s\n", s.ID, s.File, s.Reason)
	}
	return nil
}
