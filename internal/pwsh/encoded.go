package pwsh

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/spoor-dfir/spoor/internal/asciifold"
)

// EncodedCommand returns the script behind a PowerShell
// -EncodedCommand (base64 of UTF-16LE) found in a command line, or the
// decoding of s itself when s is such a base64 string; "" otherwise.
// PowerShell accepts any prefix of -EncodedCommand from -e on, -ec, and
// /, – or — as the dash.
func EncodedCommand(s string) string {
	out, toks := encodedFlag(s)
	if out == "" && len(toks) == 1 {
		return decodePSBlob(toks[0])
	}
	return out
}

// encodedFlag is EncodedCommand for the flag form only (what Decode
// looks for inside scripts, where a lone word is no blob); it returns
// the command line's arguments too.
func encodedFlag(s string) (string, []string) {
	// Most command lines have no -e… flag at all: skip the tokenizing.
	if strings.ContainsAny(s, " \t") && !asciifold.Contains(s, "-e") && !asciifold.Contains(s, "/e") &&
		!strings.ContainsAny(s, "–—―") {
		return "", nil
	}
	toks := splitArgs(s)
	for i, t := range toks {
		if i+1 < len(toks) && isEncodedFlag(t) {
			if out := decodePSBlob(toks[i+1]); out != "" {
				return out, toks
			}
		}
	}
	return "", toks
}

func decodePSBlob(s string) string {
	s = strings.Trim(s, `"'`)
	if len(s) < 4 {
		return ""
	}
	raw := Base64(s)
	if raw == "" || len(raw)%2 != 0 {
		return ""
	}
	out := UTF16(raw)
	if !utf8.ValidString(out) || strings.ContainsRune(out, utf8.RuneError) {
		return ""
	}
	return out
}

func isEncodedFlag(t string) bool {
	r, size := utf8.DecodeRuneInString(t)
	if size == 0 || !(r == '-' || r == '/' || r == '–' || r == '—' || r == '―') {
		return false
	}
	name := strings.ToLower(t[size:])
	if name == "ec" {
		return true
	}
	return len(name) >= 1 && strings.HasPrefix("encodedcommand", name)
}

// splitArgs splits a command line on blanks, keeping double-quoted runs
// together (quotes removed).
func splitArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ, have = !inQ, true
		case (r == ' ' || r == '\t' || r == '\r' || r == '\n') && !inQ:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// Base64 accepts standard and URL alphabets, with or without
// padding and with embedded whitespace; "" when s is not base64.
func Base64(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return ""
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b)
		}
	}
	return ""
}

// UTF16 reads s's bytes as UTF-16 (little-endian unless a BOM says
// otherwise); a trailing odd byte is dropped.
func UTF16(s string) string {
	b := []byte(s)
	big := false
	if len(b) >= 2 {
		switch {
		case b[0] == 0xFF && b[1] == 0xFE:
			b = b[2:]
		case b[0] == 0xFE && b[1] == 0xFF:
			b, big = b[2:], true
		}
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if big {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
	}
	return string(utf16.Decode(u))
}

// Encode writes a script in PowerShell's -EncodedCommand form (base64 of
// UTF-16LE), the inverse of EncodedCommand: for tests and generated
// evidence.
func Encode(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		b[2*i], b[2*i+1] = byte(r), byte(r>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}
