// Package detectcheck holds only a test: every firewall and RMM sample
// is detected as the format it is, across all parsers (Go firewall and
// RMM parsers and the shipped declarative formats), and the declarative
// and RMM formats claim nothing that belongs to a built-in parser. It is
// its own package so that a broken sibling parser fails this check, not
// the textfmt unit tests.
package detectcheck
