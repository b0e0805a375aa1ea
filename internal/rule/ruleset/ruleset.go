// Package ruleset loads the rules a hunt runs: spoor's built-in pack, the
// SigmaHQ Windows rules shipped in the binary, a user rules folder
// (filled by spoor rules update) and rule files and folders given by the
// user, spoor and Sigma alike. It exists apart from package rule because
// the Sigma compiler builds on package rule, so only a package above both
// can wire them together.
package ruleset

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/parallel"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/sigma"
	"github.com/spoor-dfir/spoor/internal/yamlx"
	"github.com/spoor-dfir/spoor/rules"
)

// Sources and licences rules are listed with.
const (
	SourceSpoor  = "spoor"
	SourceUser   = "user"
	LicenseSpoor = "GPL-3.0-or-later"
	// LicenseSigma is the licence of the SigmaHQ rules: the Detection
	// Rule License 1.1, which asks for the authors to be named wherever
	// the rules are shared (rules/sigma/NOTICE, spoor rules list).
	LicenseSigma = "DRL-1.1"
)

// Options says which rules to load.
type Options struct {
	Builtin bool // spoor's own pack (rules/*.yml)
	// Sigma loads the shipped SigmaHQ Windows rules and, when it exists,
	// the user rules folder UserDir (newer SigmaHQ rules from spoor rules
	// update), with the statuses DefaultStatus admits.
	Sigma   bool
	UserDir string
	// Paths are rule files and folders given by the user: loaded whatever
	// their status, since the user chose them.
	Paths []string
	// SigmaMapping is the logsource/field mapping Sigma rules compile
	// with (the built-in one with a user's file merged over it, see
	// sigma.LoadLogsources); nil means the built-in mapping.
	SigmaMapping *sigma.Logsources
}

// DefaultStatus reports whether a Sigma rule of this status loads by
// default. SigmaHQ marks rules stable, test or experimental while they
// are in use, and deprecated or unsupported once they are replaced or
// cannot work on logs alone; like Hayabusa, spoor loads the first three
// (missing status too) and leaves the last two out. Experimental rules
// stay in because their noise is what context triage judges; dropping
// them would drop coverage of the newest techniques.
func DefaultStatus(status string) bool {
	switch strings.ToLower(status) {
	case "deprecated", "unsupported":
		return false
	}
	return true
}

// statusOf reads a Sigma file's top-level status (its leading letters),
// "" when there is none.
func statusOf(data []byte) string {
	v, _ := yamlx.TopValue(data, "status")
	n := 0
	for n < len(v) && ('a' <= v[n] && v[n] <= 'z' || 'A' <= v[n] && v[n] <= 'Z') {
		n++
	}
	return v[:n]
}

// sigmaOptions are the compile options every Sigma batch of a load
// shares: the case's placeholder values (%provider_accounts% …) and the
// logsource mapping.
func sigmaOptions(cfg *caseconf.Config, opts Options) sigma.CompileOptions {
	return sigma.CompileOptions{Logsources: opts.SigmaMapping, Placeholders: sigma.CasePlaceholders(cfg)}
}

// SigmaCommit is the SigmaHQ commit the shipped rules were taken from
// (hash and date).
func SigmaCommit() string {
	b, _ := rules.SigmaFS.ReadFile("sigma/COMMIT")
	return strings.TrimSpace(string(b))
}

// sigmaSource is the Source of the shipped SigmaHQ rules: "SigmaHQ" and
// the short commit.
func sigmaSource() string {
	c := SigmaCommit()
	if i := strings.IndexByte(c, ' '); i > 0 {
		c = c[:i]
	}
	if len(c) > 12 {
		c = c[:12]
	}
	return strings.TrimSpace("SigmaHQ " + c)
}

// sigmaDocs reads the Sigma rule files under root in fsys (sorted, as
// fs.WalkDir walks), leaving out those whose status does not load by
// default (and, with check, files that are not Sigma rules); the files
// are named prefix + their path.
func sigmaDocs(fsys fs.FS, root, prefix string, check bool) ([]rule.Doc, []error) {
	var docs []rule.Doc
	var errs []error
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if ext := strings.ToLower(filepath.Ext(p)); ext != ".yml" && ext != ".yaml" {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if st := statusOf(data); st != "" && !DefaultStatus(st) {
			return nil
		}
		if check && !rule.IsSigma(data) {
			return nil // a user folder may hold other files; --rules takes spoor rules
		}
		docs = append(docs, rule.Doc{File: prefix + p, Data: data})
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return docs, errs
}

// label sets Source, License and Author of rules loaded from docs.
func label(rs []*rule.Rule, docs []rule.Doc, source, license string) {
	author := map[string]string{}
	for _, d := range docs {
		if a, ok := yamlx.TopValue(d.Data, "author"); ok {
			author[d.File] = strings.Trim(a, `'"`)
		}
	}
	for _, r := range rs {
		r.Source, r.License = source, license
		if r.Author == "" {
			r.Author = author[r.File]
		}
	}
}

// Load returns the built-in pack (when builtin is set: spoor's rules and
// the shipped SigmaHQ rules) followed by the rules under paths; see
// LoadWith.
func Load(cfg *caseconf.Config, paths []string, builtin bool) ([]*rule.Rule, []error) {
	return LoadWith(cfg, Options{Builtin: builtin, Sigma: builtin, Paths: paths})
}

// LoadWith loads the rules opts asks for, in this order: spoor's pack,
// the shipped SigmaHQ rules, the user rules folder, the paths. A later
// rule with the ID of an earlier one replaces it, so a tuned copy (or a
// newer SigmaHQ release in the user folder) can be dropped in without
// turning the pack off. All load problems are returned; the rules that
// loaded are usable.
func LoadWith(cfg *caseconf.Config, opts Options) ([]*rule.Rule, []error) {
	var errs []error
	// Sigma filter files among the paths tune the rules of every layer
	// (a user's filter for a shipped SigmaHQ rule is the common case),
	// so they are read first and go to every batch.
	copts := sigmaOptions(cfg, opts)
	filterFiles := map[string]bool{}
	for _, p := range opts.Paths {
		files, err := rule.Files(p)
		if err != nil {
			continue // LoadPaths reports it
		}
		var docs []sigma.Doc
		for _, f := range files {
			if data, err := os.ReadFile(f); err == nil && sigma.IsFilter(data) {
				docs = append(docs, sigma.Doc{File: f, Data: data})
				filterFiles[f] = true
			}
		}
		fs, es := sigma.ParseFilters(docs, copts)
		copts.Filters = append(copts.Filters, fs...)
		errs = append(errs, es...)
	}
	// Sigma files are handed to internal/sigma a batch at a time, so
	// correlation rules can refer to rules in other files of the batch.
	batch := sigma.Compiler(copts)
	compileSigma := func(docs []rule.Doc) ([]*rule.Rule, []error) {
		var rest []rule.Doc
		for _, d := range docs {
			if !filterFiles[d.File] {
				rest = append(rest, d)
			}
		}
		if len(rest) == 0 {
			return nil, nil
		}
		return batch(rest)
	}
	// spoor's pack compiles on one core while the SigmaHQ rules take the
	// others; it stays the first layer, its errors first.
	var builtin []*rule.Rule
	var builtinErrs []error
	errsBefore := len(errs)
	var layers [][]*rule.Rule
	parallel.Both(func() {
		if opts.Builtin {
			builtin, builtinErrs = rule.Builtin(cfg)
			label(builtin, nil, SourceSpoor, LicenseSpoor)
		}
	}, func() {
		if !opts.Sigma {
			return
		}
		docs, es := sigmaDocs(rules.SigmaFS, "sigma/windows", "rules/", false)
		errs = append(errs, es...)
		rs, es := compileSigma(docs)
		errs = append(errs, es...)
		label(rs, docs, sigmaSource(), LicenseSigma)
		layers = append(layers, rs)
		if opts.UserDir != "" {
			if st, err := os.Stat(opts.UserDir); err == nil && st.IsDir() {
				docs, es := sigmaDocs(os.DirFS(opts.UserDir), ".", filepath.Clean(opts.UserDir)+string(filepath.Separator), true)
				errs = append(errs, es...)
				rs, es := compileSigma(docs)
				errs = append(errs, es...)
				label(rs, docs, "SigmaHQ (user folder)", LicenseSigma)
				layers = append(layers, rs)
			}
		}
	})
	if opts.Builtin {
		errs = slices.Insert(errs, errsBefore, builtinErrs...)
		layers = append([][]*rule.Rule{builtin}, layers...)
	}
	if len(opts.Paths) > 0 {
		rs, es := rule.LoadPaths(cfg, opts.Paths, compileSigma)
		errs = append(errs, es...)
		for _, r := range rs {
			if r.Source == "" {
				r.Source = SourceUser
			}
		}
		layers = append(layers, rs)
	}
	return overlay(layers), errs
}

// overlay joins rule layers; a rule replaces those of earlier layers
// with its ID (and keeps its own layer's position).
func overlay(layers [][]*rule.Rule) []*rule.Rule {
	last := map[string]int{}
	for i, l := range layers {
		for _, r := range l {
			last[r.ID] = i
		}
	}
	var out []*rule.Rule
	for i, l := range layers {
		for _, r := range l {
			if last[r.ID] == i {
				out = append(out, r)
			}
		}
	}
	return out
}

// ReadSource reads a loaded rule's source file by the name the rule
// carries: the shipped SigmaHQ rules from the binary ("rules/sigma/…"),
// anything else from disk. Tools that go back to a rule's YAML (the SQL
// export) read through it.
func ReadSource(name string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(name, "rules/"); ok && strings.HasPrefix(rest, "sigma/") {
		if b, err := rules.SigmaFS.ReadFile(rest); err == nil {
			return b, nil
		}
	}
	return os.ReadFile(name)
}
