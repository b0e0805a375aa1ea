package analyzers_test

import (
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/analyzers/lateral"
	"github.com/spoor-dfir/spoor/analyzers/persistence"
	"github.com/spoor-dfir/spoor/analyzers/psrecon"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// atLeast returns the findings of rule prefix at or above sev.
func atLeast(fs []event.Finding, prefix, sev string) []event.Finding {
	var out []event.Finding
	for _, f := range fs {
		if strings.HasPrefix(f.RuleID, prefix) && event.Rank(f.Severity) >= event.Rank(sev) {
			out = append(out, f)
		}
	}
	return out
}

func logFindings(t *testing.T, fs []event.Finding) {
	t.Helper()
	for _, f := range fs {
		t.Logf("%s %s %s %s: %.200s | %.300s", f.Severity, f.RuleID, f.Host, f.User, f.Summary, f.Reason)
	}
}

// Metasploit's psexec (native and PowerShell payloads, DeepBlueCLI's
// recordings): a randomly named service whose binary sits in the root of
// ADMIN$, a service that runs %COMSPEC% with an encoded PowerShell
// payload, and the getsystem-style "echo to a pipe" service.
func TestPsexecSamplesAreRemoteServices(t *testing.T) {
	for _, name := range []string{"metasploit-psexec-native-target-system.evtx", "metasploit-psexec-powershell-target-system.evtx"} {
		t.Run(name, func(t *testing.T) {
			fs := sample(t, "deepbluecli/"+name, persistence.New(caseconf.Default()))
			logFindings(t, fs)
			hi := atLeast(fs, "persistence.", event.SevHigh)
			if len(hi) != 2 {
				t.Fatalf("high persistence findings: %d, want both services", len(hi))
			}
			for _, f := range hi {
				if f.RuleID != "persistence.remote_service" || !hasTag(f, "attack.t1543.003") || !hasTag(f, "attack.t1569.002") || f.Reason == "" {
					t.Errorf("%s %v: %s", f.RuleID, f.Tags, f.Reason)
				}
			}
		})
	}
}

// The native psexec recording's Security log has the service binary
// starting rundll32 (4688 without parent names: joined by process id).
func TestPsexecServiceBinaryChildrenAreLinked(t *testing.T) {
	a := persistence.New(caseconf.Default())
	feed(t, a, "deepbluecli/metasploit-psexec-native-target-security.evtx")
	fs := sample(t, "deepbluecli/metasploit-psexec-native-target-system.evtx", a)
	logFindings(t, fs)
	found := false
	for _, f := range atLeast(fs, "persistence.remote_service", event.SevHigh) {
		if strings.Contains(f.Reason, "its binary started processes: rundll32.exe") && len(f.Refs) >= 2 {
			found = true
		}
	}
	if !found {
		t.Error("no remote-service finding links the service binary's rundll32 child")
	}
}

// A WMI subscription whose consumer runs a command line is high; the
// "SCM Event Log Consumer" Windows ships with is not flagged.
func TestWMISubscriptionSample(t *testing.T) {
	fs := sample(t, "deepbluecli/wmi-event-filter-persistance.evtx", persistence.New(caseconf.Default()))
	logFindings(t, fs)
	hi := atLeast(fs, "persistence.wmi", event.SevHigh)
	if len(hi) != 1 || !strings.Contains(hi[0].Summary, "CommandLineEventConsumer") || !hasTag(hi[0], "attack.t1546.003") {
		t.Fatalf("want exactly the CommandLineEventConsumer binding high, got %d", len(hi))
	}
	for _, f := range atLeast(fs, "persistence.wmi", event.SevLow) {
		if strings.Contains(f.Summary, "SCM Event Log Consumer") {
			t.Errorf("built-in SCM consumer flagged: %s", f.Severity)
		}
	}
}

// Months of ordinary installs (drivers, VMware tools, Defender's
// randomly named update drivers, browsers' updaters) raise nothing high.
func TestOrdinaryServiceInstallsAreNotHigh(t *testing.T) {
	for _, name := range []string{"evtx-rs/system.evtx", "evtx-rs/2-vss_7-System.evtx", "evtx-rs/sysmon.evtx"} {
		t.Run(name, func(t *testing.T) {
			fs := sample(t, name, persistence.New(caseconf.Default()))
			if hi := atLeast(fs, "persistence.", event.SevHigh); len(hi) > 0 {
				logFindings(t, hi)
				t.Errorf("%d high findings on ordinary installs", len(hi))
			}
			if len(atLeast(fs, "persistence.", event.SevLow)) == 0 && len(atLeast(fs, "persistence.none", event.SevInfo)) != 1 {
				t.Error("no negative finding")
			}
		})
	}
}

func hasTag(f event.Finding, tag string) bool {
	for _, t := range f.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// impacket-style wmiexec in DeepBlueCLI's Sliver recording: WmiPrvSE
// starts `cmd.exe /Q /c … 1> \\127.0.0.1\ADMIN$\__…` — in the afternoon,
// so the time of day does not carry it.
func TestWmiexecSampleIsHigh(t *testing.T) {
	fs := sample(t, "deepbluecli/sliver-security.evtx", psrecon.New(caseconf.Default()))
	hi := atLeast(fs, "psrecon.remote_exec", event.SevHigh)
	logFindings(t, hi)
	if len(hi) == 0 {
		logFindings(t, fs)
		t.Fatal("no high remote-execution finding")
	}
	f := hi[0]
	if !strings.Contains(f.Reason, "WmiPrvSE.exe") || !strings.Contains(f.Reason, "administrative share") || !hasTag(f, "attack.t1047") {
		t.Errorf("reason %q tags %v", f.Reason, f.Tags)
	}
}

// DeepBlueCLI's Metasploit Sysmon recording: a process outside the
// system folders reads LSASS memory, and winlogon.exe (injected) starts
// cmd.exe.
func TestMetasploitSysmonSample(t *testing.T) {
	fs := sample(t, "deepbluecli/metasploit-sysmon.evtx", psrecon.New(caseconf.Default()))
	logFindings(t, atLeast(fs, "psrecon.", event.SevMedium))
	cred, winlogon := false, false
	for _, f := range atLeast(fs, "psrecon.", event.SevHigh) {
		if strings.Contains(f.Summary, `hello.exe opened lsass.exe`) && hasTag(f, "attack.t1003.001") {
			cred = true
		}
		if strings.Contains(f.Reason, "winlogon.exe") && f.RuleID == "psrecon.remote_exec" {
			winlogon = true
		}
	}
	if !cred || !winlogon {
		t.Errorf("LSASS read high: %v; winlogon shell high: %v", cred, winlogon)
	}
	for _, f := range fs {
		if strings.Contains(f.Summary, "wmiprvse.exe opened lsass") || strings.Contains(f.Summary, "svchost.exe opened lsass") {
			t.Errorf("system process reading LSASS flagged: %s", f.Summary)
		}
	}
}

// evtx-rs's RemoteConnectionManager log: after the owner's RDP logons from
// one address, accounts that never logged on before (administrator, "A")
// arrive from other internet addresses — high, by behaviour, with no
// provider configured.
func TestRDPSampleFromInternet(t *testing.T) {
	fs := sample(t, "evtx-rs/2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", lateral.New(caseconf.Default()))
	logFindings(t, fs)
	hi := atLeast(fs, "lateral.rdp", event.SevHigh)
	if len(hi) < 2 {
		t.Fatalf("high RDP findings: %d", len(hi))
	}
	for _, f := range fs {
		if strings.EqualFold(f.User, "mpowers") {
			t.Errorf("the owner's baseline logon flagged: %s", f.Summary)
		}
		if !hasTag(f, "attack.t1021.001") || !strings.Contains(f.Reason, "score") {
			t.Errorf("tags %v reason %q", f.Tags, f.Reason)
		}
	}
}
