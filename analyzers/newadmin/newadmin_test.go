package newadmin

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

func caseCfg(t *testing.T) *caseconf.Config {
	t.Helper()
	return evtest.Case(t, `
timezone: Europe/Berlin
servers: ["DC*", "FS*"]
providers:
  - name: ComTech
    accounts: ["CORP\\ct-*", "ct-*"]
`)
}

const dom = "S-1-5-21-1-2-3"

func acct(t time.Time, id int32, user, rid, actor string, kv ...string) event.Event {
	base := []string{"TargetUserName", user, "TargetDomainName", "CORP", "TargetSid", dom + "-" + rid, "SubjectUserName", actor, "SubjectDomainName", "CORP"}
	return evtest.Sec(t, "DC01", id, append(base, kv...)...)
}

func member(t time.Time, id int32, group, gsid, rid, actor string) event.Event {
	return evtest.Sec(t, "DC01", id, "MemberName", "-", "MemberSid", dom+"-"+rid, "TargetUserName", group, "TargetDomainName", "CORP", "TargetSid", gsid, "SubjectUserName", actor, "SubjectDomainName", "CORP")
}

func logon(t time.Time, user string) event.Event {
	return evtest.Sec(t, "DC01", 4624, "TargetUserName", user, "TargetDomainName", "CORP", "LogonType", "3")
}

func TestChains(t *testing.T) {
	cfg := caseCfg(t)
	start := evtest.At(2026, 9, 1, 8, 0)
	sat := evtest.At(2026, 11, 14, 23, 30)
	tue := evtest.At(2026, 11, 10, 10, 0)
	evs := []event.Event{
		logon(start, "mmeier"),
		logon(start, "old-svc"),
		logon(tue.Add(-24*time.Hour), "mmeier"),
		// Created by a provider identity on a Saturday night, then put
		// into Domain Admins (by SID only, as 4728 writes it).
		acct(sat, 4720, "svc-sqlmon", "1150", "ct-admin-weber"),
		acct(sat.Add(time.Second), 4722, "svc-sqlmon", "1150", "ct-admin-weber"),
		member(sat.Add(2*time.Second), 4728, "Domain Admins", dom+"-512", "1150", "ct-admin-weber"),
		// Existing account into Administrators on a Tuesday.
		member(tue, 4732, "Administrators", "S-1-5-32-544", "1105", "itadmin"),
		// Helpdesk reset of an active account: normal.
		acct(tue.Add(time.Minute), 4724, "mmeier", "1101", "itadmin"),
		// Distribution group: not privileged, nothing.
		member(tue.Add(2*time.Minute), 4756, "UG-Alle-Mitarbeiter", dom+"-1120", "1101", "itadmin"),
		// A dormant account (last logon 1 Sep) enabled.
		acct(tue.Add(3*time.Minute), 4722, "old-svc", "1090", "itadmin"),
		// Kerberos pre-authentication switched off.
		acct(tue.Add(4*time.Minute), 4738, "mmeier", "1101", "itadmin", "UserAccountControl", "\n\t\t%%2096"),
		// 5136: member added to Domain Admins via LDAP.
		evtest.Sec(tue.Add(5*time.Minute), "DC01", 5136, "ObjectDN", "CN=Domain Admins,CN=Users,DC=corp,DC=example", "AttributeLDAPDisplayName", "member",
			"AttributeValue", "CN=Backup Svc,OU=Service,DC=corp,DC=example", "OperationType", "%%14674", "SubjectUserName", "itadmin", "SubjectDomainName", "CORP"),
	}
	fs := evtest.Run(New(cfg), evs)
	evtest.Golden(t, "chains.golden.json", fs)
	got := map[string]event.Finding{}
	for _, f := range fs {
		t.Logf("%s %s %s: %s | %s", f.Severity, f.RuleID, f.User, f.Summary, f.Reason)
		got[f.RuleID+"/"+f.User] = f
	}
	want := map[string]string{
		"newadmin.created_privileged/svc-sqlmon":    event.SevCritical, // high, raised for the provider actor
		"newadmin.made_privileged/" + dom + "-1105": event.SevMedium,   // SID only, no name known
		"newadmin.dormant_reactivated/old-svc":      event.SevMedium,
		"newadmin.risky_change/mmeier":              event.SevMedium,
		"newadmin.made_privileged/Backup Svc":       event.SevMedium,
	}
	if len(fs) != len(want) {
		t.Errorf("got %d findings, want %d", len(fs), len(want))
	}
	for k, sev := range want {
		f, ok := got[k]
		if !ok {
			t.Errorf("missing %s", k)
			continue
		}
		if f.Severity != sev {
			t.Errorf("%s: severity %s, want %s", k, f.Severity, sev)
		}
	}
	c := got["newadmin.created_privileged/svc-sqlmon"]
	if !strings.Contains(c.Summary, "Domain Admins") || !strings.Contains(c.Reason, "provider identity (ComTech)") || !strings.Contains(c.Reason, "weekend") || len(c.Refs) != 2 {
		t.Errorf("chain: %s | %s | %d refs", c.Summary, c.Reason, len(c.Refs))
	}
	if d := got["newadmin.dormant_reactivated/old-svc"]; !strings.Contains(d.Reason, "last logon 2026-09-01") {
		t.Errorf("dormant reason %q", d.Reason)
	}
}

func TestLocalAccountOnServer(t *testing.T) {
	ev := evtest.Sec(evtest.At(2026, 11, 10, 10, 0), "FS01.corp.example", 4720, "TargetUserName", "helper", "TargetDomainName", "FS01", "TargetSid", "S-1-5-21-9-9-9-1001", "SubjectUserName", "admin", "SubjectDomainName", "FS01")
	fs := evtest.Run(New(caseCfg(t)), []event.Event{ev})
	if len(fs) != 1 || fs[0].RuleID != "newadmin.local_account_server" || fs[0].Severity != event.SevMedium {
		t.Fatalf("got %+v", fs)
	}
}

// A user account whose name ends in $ is hidden from net user: said in
// the reason and tagged, and at least medium even outside a privileged
// group.
func TestDollarAccount(t *testing.T) {
	t0 := evtest.At(2026, 3, 11, 10, 0)
	fs := evtest.Run(New(caseCfg(t)), []event.Event{acct(t0, 4720, "support$", "1109", "itadmin")})
	var f *event.Finding
	for i := range fs {
		if fs[i].User == "support$" {
			f = &fs[i]
		}
	}
	if f == nil || event.Rank(f.Severity) < event.Rank(event.SevMedium) || !strings.Contains(f.Reason, "ends in $") || !slices.Contains(f.Tags, "attack.t1564.002") {
		t.Fatalf("%+v", fs)
	}
}
