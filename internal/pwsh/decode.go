// Package pwsh reads PowerShell as attackers write it: the script behind
// -EncodedCommand (EncodedCommand, what the rule helper decode_ps uses)
// and the common obfuscation layers peeled off a command or script block
// (Decode, what the recon classification looks through). One decoder for
// every reader, so a rule and an analyzer see the same script.
package pwsh

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDecodeInput bounds the text one decode looks at; longer script blocks
// are cut (a module's source is not where a recon burst hides its intent).
const maxDecodeInput = 256 << 10

// Decoded is a command or script with its obfuscation peeled off.
type Decoded struct {
	// Text is the most decoded form.
	Text string
	// Variants are all forms, original first; classification looks at
	// every one, since a decoding that is wrong for one layer may still be
	// right for another.
	Variants []string
	// Steps names the transformations that changed the text, in order.
	Steps []string
}

var (
	reFromB64    = regexp.MustCompile(`(?i)frombase64string\(\s*['"]([A-Za-z0-9+/=]{8,})['"]`)
	reConcat     = regexp.MustCompile(`['"]\s*\+\s*['"]`)
	reCharCast   = regexp.MustCompile(`(?i)\[char\]\s*\(?\s*(0x[0-9a-f]+|\d+)\s*\)?\s*\+?`)
	reFormat     = regexp.MustCompile(`(?s)["']((?:\{\d+\})+)["']\s*-f\s*((?:'[^']*'\s*,\s*)*'[^']*')`)
	reFmtArg     = regexp.MustCompile(`'([^']*)'`)
	reFmtIdx     = regexp.MustCompile(`\{(\d+)\}`)
	reBase       = regexp.MustCompile(`(?i)toint16\s*\(.{0,60}?,\s*(2|8|16)\s*\)`)
	reXor        = regexp.MustCompile(`(?i)-bxor\s*["']?(0x[0-9a-f]+|\d+)`)
	reNumRun     = regexp.MustCompile(`(?:'?[0-9a-fA-F]{1,8}'?[^0-9a-zA-Z'"\n]{1,4}){12,}'?[0-9a-fA-F]{1,8}`)
	reNumTok     = regexp.MustCompile(`[0-9a-fA-F]+`)
	reReplace    = regexp.MustCompile(`(?i)-c?replace\s*\(?\s*'([^']{1,16})'\s*\)?\s*,\s*\(?\s*'([^']{0,4})'`)
	reReverseHnt = regexp.MustCompile(`(?i)\[-1\s*\.\.\s*-|\]::reverse\(|righttoleft`)
)

// Decode peels common PowerShell obfuscation off s: -EncodedCommand and
// FromBase64String (UTF-16LE or UTF-8), backticks, string concatenation,
// [char] casts, character-code arrays (decimal, hex, octal, binary, with
// random delimiters, optionally -bxor'ed), -f format strings, -replace
// substitutions and reversed strings. It never fails: what it cannot
// decode stays as it was.
func Decode(s string) Decoded {
	if len(s) > maxDecodeInput {
		s = s[:maxDecodeInput]
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	d := Decoded{Text: s, Variants: []string{s}}
	seen := map[string]bool{s: true}
	add := func(step, v string) {
		if v == "" || seen[v] {
			return
		}
		seen[v] = true
		d.Variants = append(d.Variants, v)
		d.Steps = append(d.Steps, step)
		d.Text = v
	}
	cur := s
	for round := 0; round < 4; round++ {
		before := len(d.Variants)
		// Base64 first: its output is the real script, obfuscated or not.
		if t, _ := encodedFlag(cur); t != "" && printable(t) {
			add("base64", t)
			cur = t
		}
		for _, m := range reFromB64.FindAllStringSubmatch(cur, 4) {
			if t, ok := b64Text(m[1]); ok {
				add("base64", t)
				cur = t
			}
		}
		if strings.Contains(cur, "`") {
			t := strings.ReplaceAll(cur, "`", "")
			add("backticks", t)
			cur = t
		}
		if reReverseHnt.MatchString(cur) || looksReversed(cur) {
			t := reverse(cur)
			add("reversed", t)
			cur = t
		}
		if reConcat.MatchString(cur) {
			t := reConcat.ReplaceAllString(cur, "")
			add("concatenation", t)
			cur = t
		}
		if reCharCast.MatchString(cur) {
			t := reCharCast.ReplaceAllStringFunc(cur, func(m string) string {
				sm := reCharCast.FindStringSubmatch(m)
				n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToLower(sm[1]), "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(strings.ToLower(sm[1]), "0x")], 32)
				if err != nil || n <= 0 || n > unicode.MaxRune {
					return m
				}
				return string(rune(n))
			})
			add("char casts", t)
			cur = t
		}
		if t, ok := charArray(cur); ok {
			add("character codes", t)
			cur = t
		}
		if reFormat.MatchString(cur) {
			t := reFormat.ReplaceAllStringFunc(cur, formatString)
			add("format string", t)
			cur = t
		}
		if m := reReplace.FindAllStringSubmatch(cur, 8); len(m) > 0 {
			t := cur
			for _, r := range m {
				t = strings.ReplaceAll(t, r[1], r[2])
			}
			add("replace", t)
			cur = t
		}
		if len(d.Variants) == before {
			break
		}
	}
	return d
}

// b64Text decodes the base64 a script hands to FromBase64String into
// text, UTF-16LE or UTF-8 (scripts use both), and accepts it only when
// it is mostly printable.
func b64Text(s string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return "", false
		}
	}
	if len(b) >= 2 && len(b)%2 == 0 && b[1] == 0 { // no BOM: UTF16 reads it little-endian
		if t := UTF16(string(b)); printable(t) {
			return t, true
		}
	}
	if utf8.Valid(b) && printable(string(b)) {
		return string(b), true
	}
	return "", false
}

func printable(s string) bool {
	if s == "" {
		return false
	}
	n, good := 0, 0
	for _, r := range s {
		n++
		if unicode.IsPrint(r) || r == '\n' || r == '\r' || r == '\t' {
			good++
		}
	}
	return good*10 >= n*9
}

// charArray decodes the longest run of character codes in s, in the base
// the script converts them with, xor'ed with its -bxor key if it has one.
func charArray(s string) (string, bool) {
	run := ""
	for _, m := range reNumRun.FindAllString(s, -1) {
		if len(m) > len(run) {
			run = m
		}
	}
	if run == "" {
		return "", false
	}
	base := 10
	if m := reBase.FindStringSubmatch(s); m != nil {
		base, _ = strconv.Atoi(m[1])
	}
	key := int64(0)
	if m := reXor.FindStringSubmatch(s); m != nil {
		v := strings.ToLower(m[1])
		if strings.HasPrefix(v, "0x") {
			key, _ = strconv.ParseInt(v[2:], 16, 32)
		} else {
			key, _ = strconv.ParseInt(v, 10, 32)
		}
	}
	var b strings.Builder
	for _, tok := range reNumTok.FindAllString(run, -1) {
		n, err := strconv.ParseInt(tok, base, 32)
		if err != nil {
			// Invoke-Obfuscation's hex mode quotes the codes that have
			// letters and leaves the others bare: all are hex.
			if base == 10 {
				if n, err = strconv.ParseInt(tok, 16, 32); err != nil {
					return "", false
				}
			} else {
				return "", false
			}
		}
		n ^= key
		if n <= 0 || n > unicode.MaxRune {
			return "", false
		}
		b.WriteRune(rune(n))
	}
	t := b.String()
	if !printable(t) {
		return "", false
	}
	return strings.Replace(s, run, t, 1), true
}

// formatString evaluates one "{1}{0}" -f 'a','b' expression.
func formatString(m string) string {
	sm := reFormat.FindStringSubmatch(m)
	if sm == nil {
		return m
	}
	var args []string
	for _, a := range reFmtArg.FindAllStringSubmatch(sm[2], -1) {
		args = append(args, a[1])
	}
	out := reFmtIdx.ReplaceAllStringFunc(sm[1], func(x string) string {
		i, _ := strconv.Atoi(x[1 : len(x)-1])
		if i < len(args) {
			return args[i]
		}
		return x
	})
	return "'" + out + "'"
}

// looksReversed spots text whose keywords read backwards (")'sderCpmuD-'"):
// reversed cmdlet and .NET names are common in obfuscated cradles.
func looksReversed(s string) bool {
	l := strings.ToLower(s)
	for _, w := range []string{"noisserpxe-ekovni", "gnirtsdaolnwod", "tneilcbew", "tcejbo-wen", "resuda-teg", "ofniretupmoc-teg"} {
		if strings.Contains(l, w) && !strings.Contains(l, reverse(w)) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
