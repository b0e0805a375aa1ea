// Package hosts gives every machine one name. Logs call the same machine
// by its FQDN (EVTX Computer), its short or NetBIOS name (RMM consoles),
// a lower-case label (firewalls) or nothing at all (pfirewall.log, RMM
// agent traces, whose host is only the folder the collector put them in).
// A Table maps all of these to one name, so that a host filter, a count of
// hosts and an incident's host list mean the same thing in every command.
package hosts

import (
	"net/netip"
	"path"
	"strings"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Table resolves host names and evidence paths to the one name of a host.
// The zero value is not usable; build one with New.
type Table struct {
	alias    map[string]string // lower-case alias, FQDN or short name → name
	evidence []evidenceRule
}

type evidenceRule struct{ glob, name string }

// New builds the table from the case's hosts (nil: no aliases).
func New(cfg *caseconf.Config) *Table {
	t := &Table{alias: map[string]string{}}
	if cfg == nil {
		return t
	}
	for _, h := range cfg.Hosts {
		name := strings.TrimSpace(h.Name)
		t.alias[strings.ToLower(name)] = name
		for _, a := range h.Aliases {
			a = strings.ToLower(strings.TrimSpace(a))
			if ip, ok := parseIP(a); ok {
				a = ip
			}
			t.alias[a] = name
		}
		for _, g := range h.Evidence {
			t.evidence = append(t.evidence, evidenceRule{glob: strings.ToLower(g), name: name})
		}
	}
	return t
}

// Name is the one name of a host however a log spells it: a case alias
// wins; an address is written in its plain form (IPv4-mapped IPv6 as
// IPv4); a DNS or NetBIOS name becomes its first label in upper case, as
// Windows shows computer names. "" and "-" stay "".
func (t *Table) Name(raw string) string {
	s := strings.TrimSpace(raw)
	if ip, ok := parseIP(s); ok {
		if n, ok := t.alias[ip]; ok {
			return n
		}
		return ip
	}
	s = strings.TrimSuffix(s, ".") // the DNS root of an FQDN
	if s == "" || s == "-" {
		return ""
	}
	if s != strings.TrimSpace(raw) {
		return t.Name(s)
	}
	if n, ok := t.alias[strings.ToLower(s)]; ok {
		return n
	}
	if i := strings.LastIndexByte(s, '\\'); i >= 0 { // DOMAIN\HOST$
		s = s[i+1:]
	}
	s = strings.TrimSuffix(s, "$")
	if i := strings.IndexByte(s, '.'); i > 0 {
		s = s[:i]
	}
	if n, ok := t.alias[strings.ToLower(s)]; ok {
		return n
	}
	// The short name may itself need naming (an address, another $):
	// naming a name must change nothing.
	if u := strings.ToUpper(s); u != strings.TrimSpace(raw) {
		return t.Name(u)
	}
	return strings.ToUpper(s)
}

// ForEvidence is the host an evidence path names: a case hosts.evidence
// glob first, then the collector layout (see FromPath). "" when neither
// says.
func (t *Table) ForEvidence(evPath string) string {
	lp := strings.ToLower(evPath)
	for _, r := range t.evidence {
		if caseconf.Glob(r.glob, lp) || strings.HasPrefix(lp, strings.TrimSuffix(r.glob, "/")+"/") {
			return r.name
		}
	}
	if h := FromPath(evPath); h != "" {
		return t.Name(h)
	}
	return ""
}

// Fix gives an event its host's one name, the evidence path's host when
// the log itself names none, and plain addresses.
func (t *Table) Fix(ev *event.Event) {
	if ev.Host != "" {
		ev.Host = t.Name(ev.Host)
	}
	if ev.Host == "" && ev.Evidence != "" {
		ev.Host = t.ForEvidence(ev.Evidence)
	}
	ev.SrcIP = PlainIP(ev.SrcIP)
	ev.DstIP = PlainIP(ev.DstIP)
}

// PlainIP writes an address in the form firewalls log it: IPv4-mapped
// IPv6 (::ffff:10.0.0.5, as EVTX keeps it) becomes IPv4. Anything that
// is not an address is returned unchanged.
func PlainIP(s string) string {
	if !strings.Contains(s, ":") {
		return s
	}
	if ip, ok := parseIP(s); ok {
		return ip
	}
	return s
}

func parseIP(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

// windowsRoots are the top-level folders of a Windows volume; the folder
// holding one is a collected host (KAPE: HOST/C/Windows/…, Velociraptor:
// HOST/uploads/auto/C%3A/Windows/…, plain copies: HOST/Windows/…).
var windowsRoots = map[string]bool{
	"windows": true, "programdata": true, "users": true, "program files": true,
	"program files (x86)": true, "inetpub": true, "perflogs": true, "$extend": true,
}

// collectorDirs sit between a host folder and the volume root.
var collectorDirs = map[string]bool{"uploads": true, "auto": true, "ntfs": true, "file": true, "mft": true, "lvm": true}

// genericDirs are folder names that name a kind of evidence, not a host.
var genericDirs = map[string]bool{
	"evidence": true, "logs": true, "log": true, "export": true, "exports": true, "firewall": true,
	"firewalls": true, "rmm": true, "data": true, "files": true, "collection": true, "collections": true,
	"triage": true, "kape": true, "velociraptor": true, "tmp": true, "temp": true, "network": true,
}

// FromPath is the host a collector's layout names in an evidence path
// ("" if none): the folder above a Windows volume root (skipping drive
// and collector folders), or, for a log lying directly in a folder below
// the evidence root (ROOT/HOST/file.log), that folder.
func FromPath(evPath string) string {
	segs := strings.Split(path.Clean(strings.ReplaceAll(evPath, `\`, "/")), "/")
	for i := 1; i < len(segs)-1; i++ {
		if !windowsRoots[strings.ToLower(segs[i])] {
			continue
		}
		j := i - 1
		for j >= 0 && (isDrive(segs[j]) || collectorDirs[strings.ToLower(segs[j])]) {
			j--
		}
		if j >= 0 && hostLike(segs[j]) {
			return segs[j]
		}
		return ""
	}
	if len(segs) == 3 && hostLike(segs[1]) {
		return segs[1]
	}
	return ""
}

// isDrive matches a drive folder: C, C:, C%3A, %5C%5C.%5CC%3A.
func isDrive(s string) bool {
	u := strings.ToUpper(s)
	u = strings.TrimPrefix(u, "%5C%5C.%5C")
	u = strings.TrimSuffix(strings.TrimSuffix(u, "%3A"), ":")
	return len(u) == 1 && u[0] >= 'A' && u[0] <= 'Z'
}

// hostLike accepts a NetBIOS or DNS label: letters, digits, '-' and '_',
// at most 63 characters, at least one letter, not a generic folder name.
func hostLike(s string) bool {
	if s == "" || len(s) > 63 || genericDirs[strings.ToLower(s)] {
		return false
	}
	letter := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			letter = true
		case r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return letter
}
