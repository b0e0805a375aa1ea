// Package ruleset loads the rules a hunt runs: the built-in pack plus
// rule files and folders given by the user, spoor and Sigma alike. It
// exists apart from package rule because the Sigma compiler builds on
// package rule, so only a package above both can wire them together.
package ruleset

import (
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/sigma"
)

// compileSigma hands Sigma files to internal/sigma in one batch, so
// correlation rules can refer to rules in other files.
func compileSigma(docs []rule.Doc) ([]*rule.Rule, []error) {
	sd := make([]sigma.Doc, len(docs))
	for i, d := range docs {
		sd[i] = sigma.Doc{File: d.File, Data: d.Data}
	}
	return sigma.Compile(sd)
}

// Load returns the built-in pack (when builtin is set) followed by the
// rules under paths. A user rule with the ID of a built-in one replaces
// it, so a tuned copy can be dropped in without --no-builtin. All load
// problems are returned; the rules that loaded are usable.
func Load(cfg *caseconf.Config, paths []string, builtin bool) ([]*rule.Rule, []error) {
	var errs []error
	var base []*rule.Rule
	if builtin {
		rs, es := rule.Builtin(cfg)
		base, errs = rs, append(errs, es...)
	}
	user, es := rule.LoadPaths(cfg, paths, compileSigma)
	errs = append(errs, es...)
	override := map[string]bool{}
	for _, r := range user {
		override[r.ID] = true
	}
	out := make([]*rule.Rule, 0, len(base)+len(user))
	for _, r := range base {
		if !override[r.ID] {
			out = append(out, r)
		}
	}
	return append(out, user...), errs
}
