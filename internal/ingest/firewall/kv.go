package firewall

import "strings"

// splitKV walks key=value pairs separated by blanks, as FortiGate,
// Sophos and netfilter write them. A value in double quotes may hold
// blanks and \" escapes; an unterminated quote runs to the end of the
// line (real logs have them). A word without '=' (a netfilter flag such
// as SYN, or a broken value) is passed with bare set. fn is called in
// order.
func splitKV(s string, fn func(k, v string, bare bool)) {
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		if i >= len(s) || s[i] != '=' || i == start || !validKey(s[start:i]) {
			// a bare word: up to the next blank
			for i < len(s) && s[i] != ' ' && s[i] != '\t' {
				i++
			}
			fn(s[start:i], "", true)
			continue
		}
		key := s[start:i]
		i++ // '='
		if i < len(s) && s[i] == '"' {
			i++
			vs := i
			esc := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) && s[i+1] == '"' {
					esc = true
					i += 2
					continue
				}
				if s[i] == '"' {
					break
				}
				i++
			}
			v := s[vs:i]
			if esc {
				v = strings.ReplaceAll(v, `\"`, `"`)
			}
			if i < len(s) {
				i++ // closing quote
			}
			fn(key, v, false)
			continue
		}
		vs := i
		for i < len(s) && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		fn(key, s[vs:i], false)
	}
}

func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// hasKey finds "k=" at the start of text or after a blank or quote.
func hasKey(text, k string) bool {
	pat := k + "="
	off := 0
	for {
		i := strings.Index(text[off:], pat)
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n' || text[i-1] == '"' {
			return true
		}
		off = i + len(pat)
	}
}

// headLines returns up to n non-empty lines of a detection head, dropping
// a last line that may be cut off.
func headLines(text []byte, n int) []string {
	s := string(text)
	if len(text) >= 64<<10-1 {
		if i := strings.LastIndexByte(s, '\n'); i > 0 {
			s = s[:i]
		}
	}
	var out []string
	for len(s) > 0 && len(out) < n {
		var line string
		line, s, _ = strings.Cut(s, "\n")
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}

// share is the percentage of lines for which ok holds.
func share(lines []string, ok func(string) bool) int {
	if len(lines) == 0 {
		return 0
	}
	n := 0
	for _, l := range lines {
		if ok(l) {
			n++
		}
	}
	return n * 100 / len(lines)
}
