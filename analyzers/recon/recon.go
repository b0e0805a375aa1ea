// Package recon names what a command or script does (account, group,
// share, trust … discovery, credential theft, download cradles), looking
// through PowerShell obfuscation: the classification psrecon scores in
// bursts and rmmsessions reports for a session, shared so both read a
// command the same way.
package recon

import (
	"regexp"
	"slices"
	"strings"

	"github.com/spoor-dfir/spoor/internal/pwsh"
)

// Kind is one thing a command can be doing, with its ATT&CK technique.
type Kind struct {
	Name string // short name used in findings: accounts, groups, shares, …
	Tag  string // ATT&CK tag, attack.tNNNN[.nnn]
	// Discovery kinds count towards a recon burst's breadth; the others
	// (tooling, download cradles, credential theft) raise its weight.
	Discovery bool
	// Weight is how much one hit adds to the score beyond breadth.
	Weight int
	re     *regexp.Regexp
	// lits are substrings one of which every match contains: a cheap
	// test that spares the regexp on the large scripts that cannot match.
	lits []string
}

func k(name, tag string, disc bool, w int, lits, pattern string) Kind {
	return Kind{Name: name, Tag: tag, Discovery: disc, Weight: w, re: regexp.MustCompile(pattern), lits: strings.Split(lits, "|")}
}

func (kd *Kind) match(norm string) bool {
	for _, l := range kd.lits {
		if strings.Contains(norm, l) {
			return kd.re.MatchString(norm)
		}
	}
	return false
}

// Kinds is the explicit list of what recon recognises, matched on the
// lowercased, blank-collapsed, decoded text. Patterns are anchored on
// command names so that prose and comments rarely match.
var Kinds = []Kind{
	k("accounts", "attack.t1087", true, 0, "user|samaccounttype", `\bnet1?(?:\.exe)? +users?\b|get-(?:ad|local|net|domain)user\b|win32_useraccount|wmic(?:\.exe)? +useraccount|dsquery(?:\.exe)? +user\b|objectcategory=user|objectclass=user|\bquery +user\b|\bquser\b|get-aduser|searcher.*samaccounttype=805306368`),
	k("groups", "attack.t1069", true, 0, "group|whoami", `\bnet1?(?:\.exe)? +(?:local)?group\b|get-(?:ad|local|net|domain)group(?:member)?\b|whoami(?:\.exe)? +/(?:groups|all)\b|win32_group\b|dsquery(?:\.exe)? +group\b|objectcategory=group|get-netlocalgroup`),
	k("shares", "attack.t1135", true, 0, "share|view", `\bnet1?(?:\.exe)? +(?:share|view)\b|get-smbshare\b|win32_share\b|invoke-sharefinder|get-netshare\b|find-domainshare|get-wmiobject +-class +win32_share`),
	k("software", "attack.t1518", true, 0, "product|uninstall|get-package|appxpackage|installedsoftware", `win32_product\b|wmic(?:\.exe)? +product\b|currentversion\\uninstall|get-package\b|get-itemproperty +hklm:\\software\\(?:wow6432node\\)?microsoft\\windows\\currentversion\\uninstall|get-appxpackage\b|get-installedsoftware`),
	k("security_software", "attack.t1518.001", true, 0, "get-mp|antivirusproduct|securitycenter2|windefend|get-service|fltmc", `get-mp(?:computerstatus|preference)\b|antivirusproduct|securitycenter2|sc(?:\.exe)? +query +windefend|get-service.*(?:defend|sense|sophos|crowdstrike|sentinel|carbon|eset|kaspersky|symantec)|fltmc(?:\.exe)?(?: +(?:filters|instances|volumes)\b| *$)`),
	k("system", "attack.t1082", true, 0, "systeminfo|computerinfo|win32_|hotfix|wmic|osversion", `\bsysteminfo(?:\.exe)?\b|get-computerinfo\b|win32_operatingsystem\b|win32_computersystem\b|get-hotfix\b|wmic(?:\.exe)? +(?:qfe|os|computersystem)\b|\[environment\]::osversion|get-wmiobject +win32_bios|win32_bios\b`),
	k("network_config", "attack.t1016", true, 0, "ipconfig|get-net|route|netsh|win32_networkadapter|dnsclient|nslookup", `\bipconfig(?:\.exe)?\b|get-netipconfiguration\b|get-netipaddress\b|\broute(?:\.exe)? +print\b|netsh(?:\.exe)? +(?:interface|wlan|advfirewall)|win32_networkadapterconfiguration|get-dnsclientserveraddress|get-netadapter\b|\bnslookup(?:\.exe)?\b`),
	k("network_connections", "attack.t1049", true, 0, "netstat|tcpconnection|session| use", `\bnetstat(?:\.exe)?\b|get-nettcpconnection\b|\bnet1?(?:\.exe)? +(?:session|use)\b|get-smbsession\b|get-netsession\b`),
	k("trusts", "attack.t1482", true, 0, "nltest|trust|dsquery|forest", `nltest(?:\.exe)? +/(?:domain_trusts|all_trusts|trusted_domains)|get-(?:ad|net|domain)trust\b|getalltrustrelationships|dsquery(?:\.exe)? +\* +.*trusteddomain|get-forestdomain|get-netforest`),
	k("remote_systems", "attack.t1018", true, 0, "computer|nltest|dsquery|arp|ping|test-connection|domaincontroller|getcurrentdomain", `get-adcomputer\b|get-(?:net|domain)computer\b|nltest(?:\.exe)? +/dclist|dsquery(?:\.exe)? +(?:computer|server)\b|\barp(?:\.exe)? +-a\b|objectcategory=computer|\bping(?:\.exe)? +-n +1 |test-connection .*-count +1|get-addomaincontroller\b|\[system\.directoryservices\.activedirectory\.domain\]::getcurrentdomain`),
	k("password_policy", "attack.t1201", true, 0, "accounts|passwordpolicy", `\bnet1?(?:\.exe)? +accounts\b|get-addefaultdomainpasswordpolicy|get-adfinegrainedpasswordpolicy`),
	k("owner", "attack.t1033", true, 0, "whoami|username", `\bwhoami(?:\.exe)?\b|\[environment\]::username|\$env:username`),
	k("host_name", "attack.t1082", true, 0, "hostname|set", `(?:^|[ ;&|/\\"])hostname(?:\.exe)?(?: *$|[ ;&|"])|(?:^|/c |[;&|] *)set *$`),
	k("processes", "attack.t1057", true, 0, "tasklist|get-process|win32_process|gps", `\btasklist(?:\.exe)?\b|get-process\b|win32_process\b|\bgps\b`),
	k("ad_collector", "attack.t1087.002", true, 4, "sharphound|bloodhound|collectionmethod|adrecon|powerview|get-domain|invoke-userhunter|find-localadminaccess|get-netdomain|pingcastle|adfind", `sharphound|invoke-bloodhound|bloodhound|-collectionmethods?\b|adrecon|invoke-adrecon|powerview|get-domainuser\b|invoke-userhunter|find-localadminaccess|get-netdomain\b|get-domainobject\b|pingcastle|adfind(?:\.exe)?\b`),
	k("credential_access", "attack.t1003", false, 4, "mimikatz|sekurlsa|dumpcreds|lsadump|minidump|lsass|kerberoast|gpppassword|ntds|sam|comsvcs|shadow", `invoke-mimikatz|mimikatz|sekurlsa|-dumpcreds|lsadump|comsvcs(?:\.dll)?[, ]+#?(?:minidump|24)\b|procdump.*lsass|out-minidump|minidumpwritedump|invoke-kerberoast|get-gpppassword|ntdsutil.*(?:ifm|create full)|\breg(?:\.exe)? +save +hklm\\(?:sam|security)\b|vssadmin.*create shadow`),
	k("remote_output", "attack.t1047", false, 4, "127.0.0.1|localhost|::1", `[12]?> *\\\\(?:127\.0\.0\.1|localhost|::1)\\(?:admin|c)\$\\`),
	k("download", "attack.t1105", false, 2, "webclient|download|webrequest|iwr|bitstransfer|bitsadmin|restmethod|urlcache", `net\.webclient|downloadstring|downloadfile|downloaddata|invoke-webrequest|\biwr\b|start-bitstransfer|bitsadmin.*/transfer|invoke-restmethod.*http|certutil.*-urlcache`),
	k("execute_string", "attack.t1059.001", false, 1, "iex|invoke-expression", `\biex\b|invoke-expression`),
}

// Hit is what one command shows.
type Hit struct {
	Kinds []string // names from Kinds, in list order
	Tags  []string
	// Discovery counts the discovery kinds among Kinds.
	Discovery int
	// Weight sums the non-breadth weights of the kinds.
	Weight int
	// Obfuscated is set when decoding revealed kinds the text as written
	// did not show: the obfuscation was hiding something.
	Obfuscated bool
	Decoded    pwsh.Decoded
}

// Classify decodes one command or script and names what it does.
func Classify(text string) Hit {
	d := pwsh.Decode(text)
	var h Hit
	h.Decoded = d
	norm := make([]string, len(d.Variants))
	for i, v := range d.Variants {
		norm[i] = normalize(v)
	}
	for _, kd := range Kinds {
		for i, v := range norm {
			if kd.match(v) {
				if i > 0 {
					h.Obfuscated = true
				}
				h.Kinds = append(h.Kinds, kd.Name)
				h.Tags = append(h.Tags, kd.Tag)
				h.Weight += kd.Weight
				if kd.Discovery {
					h.Discovery++
				}
				break
			}
		}
	}
	if h.Obfuscated && obfuscationHeavy(d.Steps) {
		h.Tags = append(h.Tags, "attack.t1027", "attack.t1140")
	}
	if h.Obfuscated {
		h.Kinds = append(h.Kinds, "obfuscation")
		h.Weight += 2
	}
	slices.Sort(h.Tags)
	h.Tags = slices.Compact(h.Tags)
	return h
}

// obfuscationHeavy tells deliberate obfuscation from a plain base64
// launch: anything beyond one base64 step.
func obfuscationHeavy(steps []string) bool {
	for _, s := range steps {
		if s != "base64" {
			return true
		}
	}
	return false
}

// KindByName looks up a kind (nil if there is none).
func KindByName(name string) *Kind {
	for i := range Kinds {
		if Kinds[i].Name == name {
			return &Kinds[i]
		}
	}
	return nil
}

// HighBreadth is the number of distinct discovery kinds that makes a
// burst of commands a reconnaissance sweep rather than an admin's lookup.
const HighBreadth = 3

var reSpaces = regexp.MustCompile(`[ \t]+`)

// normalize lowercases and collapses blanks, the form patterns match on.
func normalize(s string) string {
	return reSpaces.ReplaceAllString(strings.ToLower(s), " ")
}
