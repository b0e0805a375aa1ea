package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// termSafe shows evidence text on a terminal without letting it act on
// the terminal: host names, operators, commands and file names come from
// the attacker's side, and an escape sequence in one could clear the
// screen, set the window title, plant an OSC 8 link or, with a bare CR,
// overwrite the line before it. Control characters (C0 but LF and tab,
// DEL, C1), Unicode direction overrides and bytes that are not UTF-8 are
// written as Go-style escapes (\x1b, \u202e), so they stay visible.
func termSafe(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 && r != '\n' && r != '\t', r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// termLine is termSafe for text that must stay on one line (a table
// cell, a log line): line breaks and tabs are escaped too.
func termLine(s string) string {
	s = termSafe(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
	}
	return s
}
