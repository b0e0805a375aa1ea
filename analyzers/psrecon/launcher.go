package psrecon

import (
	"regexp"
	"strings"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/event"
)

// launcher is who started a command, when that alone says something: a
// web server or an Office document does not run `whoami`, and a WMI or
// WinRM host running one is somebody executing remotely.
type launcher struct {
	What string // for the reason, e.g. "web server w3wp.exe"
	Tag  string // ATT&CK technique of the launch
	// Level 2: any shell or discovery command it starts is high. Level
	// 1 (remote-execution hosts, which admins use too): a discovery
	// command is high, a shell alone medium.
	Level int
}

// parentClass is the explicit list of launchers by process name. Names
// are the programs' own (the images Windows or the server product ships);
// a renamed copy is caught by the behaviour checks in launcherOf instead.
var parentClass = map[string]launcher{
	"w3wp.exe":            {"IIS worker process w3wp.exe (web shell)", "attack.t1505.003", 2},
	"httpd.exe":           {"web server httpd.exe (web shell)", "attack.t1505.003", 2},
	"nginx.exe":           {"web server nginx.exe (web shell)", "attack.t1505.003", 2},
	"php-cgi.exe":         {"PHP CGI php-cgi.exe (web shell)", "attack.t1505.003", 2},
	"tomcat.exe":          {"Tomcat (web shell)", "attack.t1505.003", 2},
	"umworkerprocess.exe": {"Exchange UM worker (web shell)", "attack.t1505.003", 2},
	"sqlservr.exe":        {"SQL Server sqlservr.exe (xp_cmdshell)", "attack.t1505.001", 2},
	"winword.exe":         {"Word document", "attack.t1204.002", 2},
	"excel.exe":           {"Excel document", "attack.t1204.002", 2},
	"powerpnt.exe":        {"PowerPoint document", "attack.t1204.002", 2},
	"outlook.exe":         {"Outlook", "attack.t1204.002", 2},
	"sethc.exe":           {"sticky keys sethc.exe (accessibility backdoor)", "attack.t1546.008", 2},
	"utilman.exe":         {"utility manager utilman.exe (accessibility backdoor)", "attack.t1546.008", 2},
	"osk.exe":             {"on-screen keyboard osk.exe (accessibility backdoor)", "attack.t1546.008", 2},
	"magnify.exe":         {"magnifier magnify.exe (accessibility backdoor)", "attack.t1546.008", 2},
	"narrator.exe":        {"narrator.exe (accessibility backdoor)", "attack.t1546.008", 2},
	"displayswitch.exe":   {"displayswitch.exe (accessibility backdoor)", "attack.t1546.008", 2},
	"atbroker.exe":        {"atbroker.exe (accessibility backdoor)", "attack.t1546.008", 2},
	"winlogon.exe":        {"winlogon.exe (code injected into the logon process)", "attack.t1055", 2},
	"lsass.exe":           {"lsass.exe (code injected into LSASS)", "attack.t1055", 2},
	"spoolsv.exe":         {"print spooler spoolsv.exe (exploited service)", "attack.t1068", 2},
	"wmiprvse.exe":        {"WMI provider host WmiPrvSE.exe (remote WMI execution)", "attack.t1047", 1},
	"wsmprovhost.exe":     {"WinRM plug-in host wsmprovhost.exe (PowerShell remoting)", "attack.t1021.006", 1},
	"winrshost.exe":       {"WinRM shell host winrshost.exe (winrs)", "attack.t1021.006", 1},
	"mmc.exe":             {"mmc.exe (DCOM MMC20.Application execution)", "attack.t1021.003", 1},
	"services.exe":        {"the service manager services.exe (a service that runs a command)", "attack.t1569.002", 1},
	"psexesvc.exe":        {"PsExec service", "attack.t1569.002", 1},
}

var (
	// reShell: the child is a shell or script host (what a launcher
	// should not start); discovery tools are found by Classify.
	reShell = regexp.MustCompile(`(?i)(?:^|\\)(?:cmd|powershell|pwsh|cscript|wscript|mshta)\.exe$`)
	// reWinRoot: an executable directly in %SystemRoot% — where
	// PsExec-style tools drop their service binary through ADMIN$.
	reWinRoot = regexp.MustCompile(`(?i)^"?(?:%systemroot%|%windir%|\\systemroot|[a-z]:\\windows)\\[^\\"]+\.exe"?$`)
	// reUserPlace: folders any user can write, where installed software
	// does not live.
	reUserPlace = regexp.MustCompile(`(?i)\\(?:users|temp|tmp|perflogs|appdata|downloads|public)\\|^[a-z]:\\[^\\]+$`)
)

func baseName(p string) string {
	p = strings.Trim(strings.TrimSpace(p), `"`)
	if i := strings.LastIndexAny(p, `\/`); i >= 0 {
		p = p[i+1:]
	}
	return strings.ToLower(p)
}

// launcherOf classifies who started the process of ev: by the parent's
// image and command line, and by the account it runs as. The parent's
// command line and the account are read only when needed (raw field
// reads cost more than the rest).
func (a *Analyzer) launcherOf(ev *event.Event, parent string) (launcher, bool) {
	b := baseName(parent)
	if l, ok := parentClass[b]; ok {
		if b == "mmc.exe" {
			if pc := ev.Field("ParentCommandLine"); pc != "" && !strings.Contains(strings.ToLower(pc), "-embedding") {
				// An admin's own console: only a COM-activated mmc is DCOM.
				return launcher{}, false
			}
		}
		return l, true
	}
	if a.rootBinary(parent, b) {
		return launcher{"a service binary in the root of %SystemRoot% (" + b + ", dropped through ADMIN$: PsExec-style)", "attack.t1569.002", 1}, true
	}
	// An application pool's account: only events that spell one at all
	// have their account fields read.
	if !ev.MayHold("apppool") {
		return launcher{}, false
	}
	if acc := account(ev); strings.Contains(strings.ToLower(acc), "iis apppool\\") {
		return launcher{"IIS application pool identity " + acc + " (web shell)", "attack.t1505.003", 2}, true
	}
	return launcher{}, false
}

// account is the account a process creation runs as: User (Sysmon), else
// the target's, else the subject's DOMAIN\name (4688).
func account(ev *event.Event) string {
	if u := akit.ValueOr(ev, "", "User"); u != "" {
		return u
	}
	if u := akit.ValueOr(ev, "", "TargetUserName"); u != "" {
		return akit.ValueOr(ev, "", "TargetDomainName") + `\` + u
	}
	if u := akit.ValueOr(ev, "", "SubjectUserName"); u != "" {
		return akit.ValueOr(ev, "", "SubjectDomainName") + `\` + u
	}
	return ""
}

func osRootBinary(b string) bool {
	switch b {
	case "explorer.exe", "regedit.exe", "notepad.exe", "hh.exe", "write.exe", "bfsvc.exe", "splwow64.exe", "winhlp32.exe", "helppane.exe":
		return true
	}
	return false
}

// rootBinary remembers per parent image whether it is a binary in the
// root of %SystemRoot%: parents repeat and the regexp is the cost.
func (a *Analyzer) rootBinary(parent, base string) bool {
	if v, ok := a.roots[parent]; ok {
		return v
	}
	if len(a.roots) >= 10000 {
		clear(a.roots)
	}
	v := reWinRoot.MatchString(parent) && !osRootBinary(base)
	a.roots[strings.Clone(parent)] = v
	return v
}
