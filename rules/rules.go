// Package rules is spoor's built-in rule pack: YAML rules embedded in the
// binary and loaded by rule.Builtin. Each file holds one rule or a rules:
// list; every rule carries tests that spoor rules test runs.
package rules

import "embed"

// FS holds the rule files (*.yml).
//
//go:embed *.yml
var FS embed.FS
