package persistence

import (
	"regexp"
	"slices"
	"strings"

	"github.com/spoor-dfir/spoor/internal/asciifold"
)

// signal is one reason an installed thing looks like an attacker's, with
// its weight in the score (3 is high on its own, 2 medium, 1 low).
type signal struct {
	why    string
	weight int
	// sticky signals are not lowered by the baseline: a service that
	// runs a command interpreter is not made benign by having happened
	// before.
	sticky bool
}

var (
	// interpreters are images that run text rather than a program: a
	// service or autorun whose image is one of them runs a command line.
	reInterp = regexp.MustCompile(`(?i)(?:^|[\\/"\s])(?:%comspec%|cmd(?:\.exe)?|powershell(?:\.exe)?|pwsh(?:\.exe)?|mshta(?:\.exe)?|wscript(?:\.exe)?|cscript(?:\.exe)?|rundll32(?:\.exe)?|regsvr32(?:\.exe)?|msiexec(?:\.exe)?\s+/[qy])(?:["\s]|$)`)
	// reEncoded: encoded or compressed script payloads.
	reEncoded = regexp.MustCompile(`(?i)\s-e(?:nc(?:odedcommand)?|c)?\s+[a-z0-9+/=]{20,}|frombase64string|gzipstream|deflatestream|-join\s*\[char`)
	// encodedWords: reEncoded cannot match a line without one of them.
	encodedWords = []string{"-e", "frombase64string", "gzipstream", "deflatestream", "-join"}
	rePipe       = regexp.MustCompile(`(?i)\\\\\.\\pipe\\`)
	// reUserDir: folders any user can write, where installed software
	// does not live.
	reUserDir = regexp.MustCompile(`(?i)\\(?:users|documents and settings)\\|\\appdata\\|\\temp\\|\\tmp\\|\\perflogs\\|\\\$recycle\.bin\\|\\windows\\tasks\\|\\windows\\debug\\|\\downloads\\|\\public\\`)
	// reWinRoot: an executable directly in %SystemRoot%, which is what
	// \\host\ADMIN$ exposes: where PsExec-style tools drop their service
	// binary.
	reWinRoot = regexp.MustCompile(`(?i)^"?(?:%systemroot%|%windir%|\\systemroot|[a-z]:\\windows)\\[^\\"]+\.(?:exe|dll|bat|cmd|ps1|vbs)"?(?:\s|$)`)
	reUNC     = regexp.MustCompile(`^"?\\\\[^?.\\]`)
	// reScript: script files as the thing run.
	reScript = regexp.MustCompile(`(?i)\.(?:ps1|bat|cmd|vbs|vbe|js|jse|hta|wsf)\b`)
)

// imageSignals judges the command an installed thing runs.
func imageSignals(img string, interpWeight int) []signal {
	var out []signal
	s := strings.TrimSpace(img)
	if s == "" {
		return nil
	}
	if rePipe.MatchString(s) {
		out = append(out, signal{"writes to a named pipe (a privilege-escalation or PsExec-style launcher)", 3, true})
	}
	if reInterp.MatchString(s) {
		out = append(out, signal{"runs a command interpreter", interpWeight, interpWeight >= 3})
	}
	if encoded(s) {
		out = append(out, signal{"carries an encoded or compressed payload", 2, true})
	}
	switch {
	case reUNC.MatchString(s):
		out = append(out, signal{"runs from a network path", 2, false})
	case reWinRoot.MatchString(s):
		out = append(out, signal{"binary in the root of %SystemRoot% (the ADMIN$ share)", 2, false})
	case reUserDir.MatchString(s):
		out = append(out, signal{"runs from a user-writable folder", 2, false})
	}
	return out
}

// randomName tells a generated name (KgXItsbKgTJzdzwl, duKhLYUX) from a
// product's: letters and digits only, and at least two capitals inside a
// lower-case run that do not start a word (a capital followed by two
// lower-case letters starts one, as in GoogleUpdaterService; a leading
// acronym as in MSSQLServer is not inside a run).
func randomName(name string) bool {
	if len(name) < 8 || len(name) > 40 {
		return false
	}
	isUp := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isLo := func(c byte) bool { return c >= 'a' && c <= 'z' }
	odd := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isUp(c) && !isLo(c) && !(c >= '0' && c <= '9') {
			return false
		}
		if i == 0 || !isUp(c) || !isLo(name[i-1]) {
			continue
		}
		if !(i+2 < len(name) && isLo(name[i+1]) && isLo(name[i+2])) {
			odd++
		}
	}
	return odd >= 2
}

// sigNorm reduces a path or name to what repeats between installs of the
// same software: lower case, GUIDs and digit runs replaced.
var (
	reGUID   = regexp.MustCompile(`\{[0-9a-fA-F-]{36}\}`)
	reDigits = regexp.MustCompile(`[0-9]+`)
	reHexTok = regexp.MustCompile(`[0-9a-f]{6,}`)
)

func sigNorm(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = reGUID.ReplaceAllString(s, "{guid}")
	s = reHexTok.ReplaceAllString(s, "#")
	return reDigits.ReplaceAllString(s, "#")
}

// imageDir is the folder of the program a command line runs (the
// signature of "installed from the same place as before").
func imageDir(img string) string {
	s := strings.TrimSpace(img)
	if strings.HasPrefix(s, `"`) {
		if i := strings.IndexByte(s[1:], '"'); i >= 0 {
			s = s[1 : i+1]
		}
	} else if i := strings.Index(strings.ToLower(s), ".exe"); i >= 0 {
		s = s[:i+4]
	} else if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexAny(s, `\/`); i >= 0 {
		return sigNorm(s[:i+1]) + extOf(s)
	}
	return sigNorm(s)
}

func extOf(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 && len(s)-i <= 5 {
		return strings.ToLower(s[i:])
	}
	return ""
}

// autorunKey names the persistence an autostart registry value gives, or
// "" for keys that are not autostart locations.
type autorunKind struct {
	what string
	tag  string
	base int
}

func autorunKey(key string) (autorunKind, bool) {
	k := strings.ToLower(key)
	switch {
	case strings.Contains(k, `\image file execution options\`) && (strings.HasSuffix(k, `\debugger`) || strings.HasSuffix(k, `\globalflag`)):
		return autorunKind{"image file execution options debugger", "attack.t1546.012", 2}, true
	case strings.Contains(k, `\silentprocessexit\`) && strings.HasSuffix(k, `\monitorprocess`):
		return autorunKind{"silent process exit monitor", "attack.t1546.012", 2}, true
	case strings.Contains(k, `\windows nt\currentversion\winlogon\`) && (strings.HasSuffix(k, `\userinit`) || strings.HasSuffix(k, `\shell`) || strings.Contains(k, `\notify\`)):
		return autorunKind{"Winlogon helper", "attack.t1547.004", 2}, true
	case strings.Contains(k, `\currentversion\run`) || strings.Contains(k, `\policies\explorer\run\`):
		return autorunKind{"Run/RunOnce autostart", "attack.t1547.001", 0}, true
	case strings.Contains(k, `\windows nt\currentversion\windows\appinit_dlls`):
		return autorunKind{"AppInit DLL", "attack.t1546.010", 2}, true
	case strings.Contains(k, `\control\lsa\`) && (strings.HasSuffix(k, `\security packages`) || strings.HasSuffix(k, `\notification packages`) || strings.HasSuffix(k, `\authentication packages`)):
		return autorunKind{"LSA package", "attack.t1547.005", 2}, true
	case strings.Contains(k, `\environment\userinitmprlogonscript`):
		return autorunKind{"logon script", "attack.t1037.001", 2}, true
	case strings.Contains(k, `\services\`) && (strings.HasSuffix(k, `\imagepath`) || strings.HasSuffix(k, `\servicedll`)):
		return autorunKind{"service image written to the registry", "attack.t1543.003", 0}, true
	}
	return autorunKind{}, false
}

// taskCommand pulls the command and arguments out of a task's XML
// definition (4698 TaskContent).
var (
	reTaskCmd    = regexp.MustCompile(`(?is)<Command>(.*?)</Command>`)
	reTaskArgs   = regexp.MustCompile(`(?is)<Arguments>(.*?)</Arguments>`)
	reTaskHidden = regexp.MustCompile(`(?is)<Hidden>\s*true\s*</Hidden>`)
	reTaskUser   = regexp.MustCompile(`(?is)<UserId>(.*?)</UserId>`)
)

func taskCommand(xml string) (cmd string, hidden bool, runAs string) {
	if strings.Contains(xml, "&lt;Command&gt;") || strings.Contains(xml, "&lt;Task") {
		// Rendered with the markup itself escaped.
		xml = unescapeXML(xml)
	}
	if m := reTaskCmd.FindStringSubmatch(xml); m != nil {
		cmd = unescapeXML(strings.TrimSpace(m[1]))
	}
	if m := reTaskArgs.FindStringSubmatch(xml); m != nil {
		cmd += " " + unescapeXML(strings.TrimSpace(m[1]))
	}
	if m := reTaskUser.FindStringSubmatch(xml); m != nil {
		runAs = strings.TrimSpace(m[1])
	}
	return strings.TrimSpace(cmd), reTaskHidden.MatchString(xml), runAs
}

var xmlUnescaper = strings.NewReplacer("&quot;", `"`, "&apos;", "'", "&lt;", "<", "&gt;", ">", "&amp;", "&")

func unescapeXML(s string) string { return xmlUnescaper.Replace(s) }

// encoded is reEncoded's match, the expression run only on lines that
// hold one of its words. (?i) also folds ſ to s and K to k, which an ASCII
// search does not: lines with other than ASCII go to the expression.
func encoded(s string) bool {
	if asciifold.IsASCII(s) && !slices.ContainsFunc(encodedWords, func(w string) bool { return asciifold.Contains(s, w) }) {
		return false
	}
	return reEncoded.MatchString(s)
}
