package textfmt

import (
	"strings"
)

// splitKV reads key/value pairs from s the way firewalls write them:
// key=value, key="quoted value" (backslash escapes the quote), pairs
// separated by delim (whitespace when empty). Words without a separator
// are passed over, so a free-text tail does not stop the scan. add is
// called per pair in order.
func splitKV(s, sep, delim string, add func(k, v string)) {
	isDelim := func(i int) bool {
		if delim == "" {
			return s[i] == ' ' || s[i] == '\t'
		}
		return strings.HasPrefix(s[i:], delim)
	}
	dl := len(delim)
	if dl == 0 {
		dl = 1
	}
	i := 0
	for i < len(s) {
		// Skip delimiters and blanks.
		for i < len(s) && (isDelim(i) || s[i] == ' ' || s[i] == '\t' || s[i] == '(' || s[i] == '[') {
			if isDelim(i) {
				i += dl
			} else {
				i++
			}
		}
		if i >= len(s) {
			return
		}
		// Key runs to the separator; a delimiter or blank first means a
		// loose word.
		start := i
		for i < len(s) && !strings.HasPrefix(s[i:], sep) && !isDelim(i) && s[i] != ' ' && s[i] != '\t' && s[i] != '"' {
			i++
		}
		if i >= len(s) || !strings.HasPrefix(s[i:], sep) || i == start {
			// Loose word: skip it (and a quoted run it starts).
			if i < len(s) && s[i] == '"' {
				i = skipQuoted(s, i)
			} else if i == start {
				i++
			}
			continue
		}
		key := s[start:i]
		i += len(sep)
		var val string
		if i < len(s) && s[i] == '"' {
			end := skipQuoted(s, i)
			if end-1 > i && s[end-1] == '"' {
				val = s[i+1 : end-1]
			} else {
				val = s[i+1 : end]
			}
			val = strings.ReplaceAll(val, `\"`, `"`)
			i = end
		} else {
			vs := i
			for i < len(s) && !isDelim(i) && (delim != "" || (s[i] != ' ' && s[i] != '\t')) {
				i++
			}
			val = strings.TrimSpace(s[vs:i])
		}
		add(key, val)
	}
}

// skipQuoted returns the index just after the quoted run starting at
// s[i] == '"' (or len(s) when it is not closed).
func skipQuoted(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(s)
}
