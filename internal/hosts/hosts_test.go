package hosts

import (
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

const caseYAML = `
hosts:
  - name: FW-EDGE
    aliases: ["fortigate-60f", "192.0.2.1"]
  - name: SRV-LEGACY
    aliases: ["oldname.example.org"]
    evidence: ["export/syslog/*"]
`

func table(t testing.TB) *Table {
	t.Helper()
	cfg, err := caseconf.Parse("case.yaml", []byte(caseYAML))
	if err != nil {
		t.Fatal(err)
	}
	return New(cfg)
}

func TestNameOneHostManySpellings(t *testing.T) {
	tb := table(t)
	for _, c := range []struct{ raw, want string }{
		{"DC01.corp.breisgau-medtec.de", "DC01"},
		{"dc01", "DC01"},
		{"DC01", "DC01"},
		{"dc01.corp.example.", "DC01"},
		{`CORP\WS-17$`, "WS-17"},
		{"fortigate-60f", "FW-EDGE"},
		{"FortiGate-60F.lan", "FW-EDGE"},
		{"192.0.2.1", "FW-EDGE"},
		{"::ffff:192.0.2.1", "FW-EDGE"},
		{"oldname.example.org", "SRV-LEGACY"},
		{"::ffff:10.1.2.3", "10.1.2.3"},
		{"[2001:db8::1]", "2001:db8::1"},
		{"-", ""},
		{"  ", ""},
	} {
		if got := tb.Name(c.raw); got != c.want {
			t.Errorf("Name(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

func TestFromPathCollectorLayouts(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"evidence/PC-001/Windows/System32/LogFiles/Firewall/pfirewall.log", "PC-001"},
		{"evidence/ERP01/ProgramData/AnyDesk/ad_svc.trace", "ERP01"},
		{"kape/WS-7/C/Windows/System32/winevt/Logs/Security.evtx", "WS-7"},
		{"collection.zip/WS-8/uploads/auto/C%3A/Program Files/TeamViewer/Connections_incoming.txt", "WS-8"},
		{"v/WS-9/uploads/ntfs/%5C%5C.%5CC%3A/Windows/x.log", "WS-9"},
		{"PC-002/Users/alice/AppData/Roaming/AnyDesk/ad.trace", "PC-002"},
		{"evidence/FW02/filter.log", "FW02"},
		{"evidence/firewall/filter.log", ""},     // a kind of evidence, not a host
		{"logs/2026/11/fw.log", ""},              // too deep to be ROOT/HOST/file
		{"fw.log", ""},                           // no folder at all
		{"evidence/C/Windows/pfirewall.log", ""}, // a volume without a host folder
	} {
		if got := FromPath(c.path); got != c.want {
			t.Errorf("FromPath(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestFixFillsHostFromEvidenceAndCase(t *testing.T) {
	tb := table(t)
	evs := []event.Event{
		{Evidence: "evidence/pc-001/Windows/System32/LogFiles/Firewall/pfirewall.log", SrcIP: "::ffff:10.0.0.5", DstIP: "8.8.8.8"},
		{Evidence: "export/syslog/messages", Host: ""},
		{Evidence: "evidence/DC01/Windows/System32/winevt/Logs/Security.evtx", Host: "DC01.corp.example"},
		{Evidence: "evidence/RMM/audit.jsonl", Host: "fs01"}, // the log's own host wins over the folder
	}
	want := []string{"PC-001", "SRV-LEGACY", "DC01", "FS01"}
	for i := range evs {
		tb.Fix(&evs[i])
		if evs[i].Host != want[i] {
			t.Errorf("event %d: host %q, want %q", i, evs[i].Host, want[i])
		}
	}
	if evs[0].SrcIP != "10.0.0.5" || evs[0].DstIP != "8.8.8.8" {
		t.Errorf("addresses not plain: %q %q", evs[0].SrcIP, evs[0].DstIP)
	}
}

func TestCaseHostWithoutNameIsAnError(t *testing.T) {
	_, err := caseconf.Parse("case.yaml", []byte("hosts:\n  - aliases: [x]\n"))
	if err == nil {
		t.Fatal("want an error for a host without a name")
	}
}
