package simulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/0xrawsec/golang-evtx/evtx"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/cases/comtech")

// Small runs keep the suite fast; the attacks fall in the last week.
func small(t testing.TB, scenario string, seed uint64) (string, *Summary) {
	t.Helper()
	dir := t.TempDir()
	s, err := Run(Options{Out: dir, Scenario: scenario, Seed: seed, Hosts: 7, Days: 10})
	if err != nil {
		t.Fatal(err)
	}
	return dir, s
}

// tree reads every file under dir, keyed by slash path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSameSeedSameBytes(t *testing.T) {
	a, _ := small(t, "comtech-exfil", 42)
	b, _ := small(t, "comtech-exfil", 42)
	c, _ := small(t, "comtech-exfil", 43)
	ta, tb, tc := tree(t, a), tree(t, b), tree(t, c)
	if len(ta) < 50 {
		t.Fatalf("only %d files written", len(ta))
	}
	for k, v := range ta {
		if !bytes.Equal(v, tb[k]) {
			t.Errorf("%s differs between two runs with the same seed", k)
		}
	}
	if len(ta) != len(tb) {
		t.Errorf("file sets differ: %d vs %d", len(ta), len(tb))
	}
	differ := 0
	for k, v := range ta {
		if !bytes.Equal(v, tc[k]) {
			differ++
		}
	}
	if differ < 10 {
		t.Errorf("seeds 42 and 43 differ in only %d files", differ)
	}
	if bytes.Equal(ta["labels.jsonl"], tc["labels.jsonl"]) {
		t.Error("labels identical for different seeds")
	}
}

// parseEvtx reads a file with golang-evtx: record id → event.
func parseEvtx(t *testing.T, path string) map[int64]*evtx.GoEvtxMap {
	t.Helper()
	ef, err := evtx.Open(path)
	if err != nil {
		t.Fatalf("golang-evtx: %s: %v", path, err)
	}
	defer ef.Close()
	out := map[int64]*evtx.GoEvtxMap{}
	for e := range ef.FastEvents() {
		out[e.EventRecordID()] = e
	}
	return out
}

func str(e *evtx.GoEvtxMap, p string) string {
	path := evtx.Path(p)
	s, _ := e.GetString(&path)
	return s
}

func TestEvtxReadsWithGolangEvtx(t *testing.T) {
	for _, sc := range Scenarios {
		t.Run(sc, func(t *testing.T) {
			dir, sum := small(t, sc, 7)
			nfiles := 0
			for rel, n := range sum.Counts {
				if !strings.HasSuffix(rel, ".evtx") {
					continue
				}
				nfiles++
				path := filepath.Join(dir, filepath.FromSlash(rel))
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					if fi.Size() != 4096 {
						t.Errorf("%s: empty log is %d bytes, want the 4096-byte header", rel, fi.Size())
					}
					continue
				}
				evs := parseEvtx(t, path)
				if len(evs) != n {
					t.Errorf("%s: golang-evtx reads %d records, %d written", rel, len(evs), n)
				}
				for id := int64(1); id <= int64(n); id++ {
					e := evs[id]
					if e == nil {
						t.Errorf("%s: record %d missing", rel, id)
						continue
					}
					ch := e.Channel()
					if want := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(rel), ".evtx"), "%4", "/"); ch != want {
						t.Errorf("%s: record %d has channel %q", rel, id, ch)
						break
					}
					if tc := e.TimeCreated(); tc.Before(sum.Start) || !tc.Before(sum.End.Add(time.Hour)) {
						t.Errorf("%s: record %d time %v outside the period", rel, id, tc)
						break
					}
				}
			}
			if nfiles != 8*7 {
				t.Errorf("%d EVTX files, want 8 channels × 7 hosts", nfiles)
			}
		})
	}
}

// 4624 and 4688 carry exactly the fields Windows writes, in its order.
func TestSecurityFieldNames(t *testing.T) {
	dir, _ := small(t, "normal", 3)
	want := map[int64][]string{
		4624: {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType", "LogonProcessName", "AuthenticationPackageName", "WorkstationName", "LogonGuid", "TransmittedServices", "LmPackageName", "KeyLength", "ProcessId", "ProcessName", "IpAddress", "IpPort", "ImpersonationLevel", "RestrictedAdminMode", "TargetOutboundUserName", "TargetOutboundDomainName", "VirtualAccount", "TargetLinkedLogonId", "ElevatedToken"},
		4688: {"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "NewProcessId", "NewProcessName", "TokenElevationType", "ProcessId", "CommandLine", "TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "ParentProcessName", "MandatoryLabel"},
		4634: {"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType"},
	}
	evs := parseEvtx(t, filepath.Join(dir, "evidence", "PC-001", "Windows", "System32", "winevt", "Logs", "Security.evtx"))
	seen := map[int64]bool{}
	for _, e := range evs {
		id := e.EventID()
		names, ok := want[id]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		for _, n := range names {
			p := evtx.Path("/Event/EventData/" + n)
			if _, err := e.Get(&p); err != nil {
				t.Errorf("%d: field %s missing", id, n)
			}
		}
		if got := str(e, "/Event/System/Provider/Name"); got != "Microsoft-Windows-Security-Auditing" {
			t.Errorf("%d: provider %q", id, got)
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("no %d on PC-001", id)
		}
	}
}

func readLabels(t *testing.T, dir string) []Label {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []Label
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var l Label
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("labels.jsonl:%d: %v", i+1, err)
		}
		out = append(out, l)
	}
	return out
}

func TestComtechLabels(t *testing.T) {
	dir, _ := small(t, "comtech", 11)
	labels := readLabels(t, dir)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	sessions := map[string]Label{}
	weekend := 0
	for _, l := range labels {
		switch l.Kind {
		case "rmm_session":
			sessions[l.SessionID] = l
			if wd := l.Time.In(berlin).Weekday(); wd == time.Saturday || wd == time.Sunday {
				weekend++
			}
			if l.End == nil || !l.End.After(l.Time) {
				t.Errorf("session %s has no end after its start", l.SessionID)
			}
		case "recon_command":
		default:
			t.Errorf("comtech has a %s label: only sessions and recon belong to it", l.Kind)
		}
		if len(l.Evidence) == 0 {
			t.Errorf("%s label at %v has no evidence", l.Kind, l.Time)
		}
	}
	if len(sessions) != 3 || weekend != 2 {
		t.Fatalf("%d rmm_session labels, %d on a weekend; want 3 and 2", len(sessions), weekend)
	}
	kinds := map[string]map[string]bool{}
	for _, l := range labels {
		if l.Kind != "recon_command" {
			continue
		}
		s, ok := sessions[l.SessionID]
		if !ok {
			t.Errorf("recon label at %v names unknown session %q", l.Time, l.SessionID)
			continue
		}
		if l.Time.Before(s.Time) || l.Time.After(*s.End) || l.Host != s.Host {
			t.Errorf("recon label at %v on %s lies outside its session %v–%v on %s", l.Time, l.Host, s.Time, *s.End, s.Host)
		}
		if kinds[l.SessionID] == nil {
			kinds[l.SessionID] = map[string]bool{}
		}
		kinds[l.SessionID][strings.Split(l.Detail, ":")[0]] = true
	}
	for id := range sessions {
		if len(kinds[id]) == 0 {
			t.Errorf("session %s has no recon commands", id)
		}
	}
	all := map[string]bool{}
	for _, k := range kinds {
		for kk := range k {
			for _, p := range strings.Split(kk, ",") {
				all[p] = true
			}
		}
	}
	for _, k := range []string{"accounts", "groups", "shares", "software"} {
		if !all[k] {
			t.Errorf("no %s reconnaissance", k)
		}
	}
	// The multi-part script block: several 4104 records, one id.
	checkMultipart(t, dir, labels)
	// Firewall: nothing unusual leaves the company.
	flows := fortigateFlows(t, dir)
	for _, fl := range flows {
		if strings.HasPrefix(fl["dstip"], "203.0.113.") {
			t.Errorf("comtech firewall log has a flow to attacker space: %v", fl)
		}
		if n, _ := strconv.ParseInt(fl["sentbyte"], 10, 64); n > 50_000_000 && fl["dstip"] != backupIP {
			t.Errorf("comtech firewall log has a bulk upload: %v", fl)
		}
	}
}

func checkMultipart(t *testing.T, dir string, labels []Label) {
	t.Helper()
	for _, l := range labels {
		for _, ev := range l.Evidence {
			if !strings.HasSuffix(ev.File, "PowerShell%4Operational.evtx") {
				continue
			}
			evs := parseEvtx(t, filepath.Join(dir, filepath.FromSlash(ev.File)))
			ids := map[string][]string{}
			for _, e := range evs {
				if e.EventID() == 4104 && str(e, "/Event/EventData/MessageTotal") == "3" {
					id := str(e, "/Event/EventData/ScriptBlockId")
					ids[id] = append(ids[id], str(e, "/Event/EventData/MessageNumber"))
				}
			}
			for _, v := range ids {
				slices.Sort(v)
				if slices.Equal(v, []string{"1", "2", "3"}) {
					return
				}
			}
		}
	}
	t.Error("no script block split over 3 records with one ScriptBlockId")
}

func fortigateFlows(t *testing.T, dir string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "evidence", filepath.FromSlash(relFortigate)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := map[string]string{}
		for _, kv := range strings.Fields(sc.Text()) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("fortigate line without key=value: %q", kv)
			}
			m[k] = strings.Trim(v, `"`)
		}
		out = append(out, m)
	}
	return out
}

func TestPersistenceLabels(t *testing.T) {
	dir, _ := small(t, "comtech-persistence", 5)
	labels := readLabels(t, dir)
	got := map[uint16]bool{}
	var sess string
	for _, l := range labels {
		if l.Kind == "rmm_session" && l.Host == "DC01" {
			sess = l.SessionID
		}
	}
	for _, l := range labels {
		if l.Kind != "new_admin" && l.Kind != "log_clear" {
			continue
		}
		if l.SessionID != sess {
			t.Errorf("%s label not linked to the DC01 session", l.Kind)
		}
		for _, ev := range l.Evidence {
			if ev.RecordID == 0 {
				continue
			}
			e := parseEvtx(t, filepath.Join(dir, filepath.FromSlash(ev.File)))[int64(ev.RecordID)]
			if e == nil {
				t.Fatalf("%s record %d missing", ev.File, ev.RecordID)
			}
			got[uint16(e.EventID())] = true
			if e.EventID() == 4728 && str(e, "/Event/EventData/TargetUserName") != "Domain Admins" {
				t.Errorf("4728 into %q", str(e, "/Event/EventData/TargetUserName"))
			}
			if e.EventID() == 4720 && !strings.HasPrefix(str(e, "/Event/EventData/SubjectUserName"), "ct-admin-") {
				t.Errorf("4720 by %q, want a provider account", str(e, "/Event/EventData/SubjectUserName"))
			}
		}
	}
	for _, id := range []uint16{4720, 4728, 4732, 1102, 104} {
		if !got[id] {
			t.Errorf("no labelled %d", id)
		}
	}
}

func TestExfilLabels(t *testing.T) {
	dir, _ := small(t, "comtech-exfil", 9)
	labels := readLabels(t, dir)
	var beacons []time.Time
	var upload int64
	for _, l := range labels {
		switch l.Kind {
		case "beacon":
			beacons = append(beacons, l.Time)
		case "exfil":
			var n int64
			fmt.Sscanf(l.Detail, "upload of %d bytes", &n)
			upload += n
		}
	}
	if len(beacons) < 100 {
		t.Fatalf("%d beacons", len(beacons))
	}
	slices.SortFunc(beacons, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(beacons); i++ {
		if d := beacons[i].Sub(beacons[i-1]); d < beaconGap-5*time.Second || d > beaconGap+5*time.Second {
			t.Fatalf("beacon gap %v", d)
		}
	}
	if upload < 300_000_000 {
		t.Errorf("upload of %d bytes, want several hundred MB", upload)
	}
	// The destinations are first-seen: no earlier flow goes there.
	first := map[string]bool{}
	for _, fl := range fortigateFlows(t, dir) {
		if fl["dstip"] == exfilIP || fl["dstip"] == c2IP {
			first[fl["dstip"]] = true
		}
	}
	if !first[exfilIP] || !first[c2IP] {
		t.Errorf("firewall log lacks the exfil or C2 flows: %v", first)
	}
}

func TestCaseYAMLLoads(t *testing.T) {
	dir, _ := small(t, "comtech", 1)
	cfg, err := caseconf.Load(filepath.Join(dir, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Location().String() != "Europe/Berlin" || len(cfg.Providers) == 0 || cfg.Providers[0].Name != "ComTech IT" {
		t.Fatalf("case: zone %v, providers %v", cfg.Location(), cfg.Providers)
	}
	if p, ok := cfg.Provider(`CORP\ct-admin-weber`); !ok || p.Name != "ComTech IT" {
		t.Error("ct-admin-weber is not a ComTech account")
	}
	if _, ok := cfg.ProviderIP("10.250.0.12"); !ok {
		t.Error("VPN subnet not a provider network")
	}
	if cfg.SourceLocation("fortigate", "firewall").String() != "Europe/Berlin" || cfg.SourceLocation("anydesk", "rmm").String() != "Europe/Berlin" {
		t.Error("zone-less sources not set to Europe/Berlin")
	}
	for _, l := range readLabels(t, dir) {
		if l.Kind == "rmm_session" && cfg.InBusinessHours(l.Time) {
			t.Errorf("attack session at %v is inside business hours", l.Time)
		}
	}
}

func TestHolidays(t *testing.T) {
	h := bwHolidays(2026, 2026)
	for d, want := range map[string]string{"2026-04-03": "Karfreitag", "2026-04-06": "Ostermontag", "2026-05-14": "Christi Himmelfahrt", "2026-05-25": "Pfingstmontag", "2026-06-04": "Fronleichnam", "2026-11-01": "Allerheiligen"} {
		if h[d] != want {
			t.Errorf("%s: %q, want %q", d, h[d], want)
		}
	}
	if _, ok := h["2026-10-31"]; ok {
		t.Error("Reformationstag is not a holiday in Baden-Württemberg")
	}
}

// Text formats: the columns the real tools write.
func TestTextFormats(t *testing.T) {
	dir, _ := small(t, "comtech", 4)
	walk := func(suffix string, fn func(path string, lines []string)) {
		n := 0
		filepath.WalkDir(filepath.Join(dir, "evidence"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(filepath.ToSlash(p), suffix) {
				b, _ := os.ReadFile(p)
				fn(p, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"))
				n++
			}
			return nil
		})
		if n == 0 {
			t.Errorf("no %s written", suffix)
		}
	}
	walk("pfirewall.log", func(p string, lines []string) {
		if !strings.HasPrefix(lines[3], "#Fields: date time action protocol") {
			t.Errorf("%s: header %q", p, lines[3])
		}
		for _, l := range lines[4:] {
			if f := strings.Fields(l); len(f) != 18 || !strings.HasSuffix(l, "\r") {
				t.Fatalf("%s: %d fields or no CRLF: %q", p, len(f), l)
			}
		}
	})
	walk("Connections_incoming.txt", func(p string, lines []string) {
		for _, l := range lines {
			f := strings.Split(l, "\t")
			if len(f) != 8 || f[5] != "RemoteControl" {
				t.Fatalf("%s: %q", p, l)
			}
			if _, err := time.Parse("02-01-2006 15:04:05", f[2]); err != nil {
				t.Fatal(err)
			}
		}
	})
	walk("ad_svc.trace", func(p string, lines []string) {
		for _, l := range lines {
			if len(l) < 100 || l[7] != ' ' || !strings.Contains(l, "       gsvc ") || !strings.Contains(l, " - ") {
				t.Fatalf("%s: %q", p, l)
			}
		}
	})
	walk("filter.log", func(p string, lines []string) {
		for _, l := range lines {
			_, csv, ok := strings.Cut(l, "filterlog[41250]: ")
			if f := strings.Split(csv, ","); !ok || len(f) != 29 || f[16] != "tcp" {
				t.Fatalf("%s: %d fields: %q", p, len(f), l)
			}
		}
	})
	walk("screenconnect-audit.jsonl", func(p string, lines []string) {
		for _, l := range lines {
			var m map[string]string
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			if _, err := time.Parse(time.RFC3339, m["time"]); err != nil || m["tool"] != "screenconnect" || m["session_id"] == "" {
				t.Fatalf("%q", l)
			}
			if _, ok := m["command"]; ok != (m["event"] == "command" || m["event"] == "file_transfer") {
				t.Fatalf("command key on a %s event", m["event"])
			}
			if _, err := netip.ParseAddr(m["source_ip"]); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1GiB": 1 << 30, "500MB": 500e6, "64KiB": 64 << 10, "2g": 2 << 30, "123": 123, "1.5 MiB": 3 << 19} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GiB", "-1MB", "1XB", "1e30GB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"1GiB", "500MB", "12", "0.5k", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Fatalf("%q → %d", s, n)
		}
	})
}

func TestBulkSize(t *testing.T) {
	dir := t.TempDir()
	const want = 8 << 20
	s, err := Run(Options{Out: dir, Seed: 1, Hosts: 6, Days: 10, Size: want})
	if err != nil {
		t.Fatal(err)
	}
	if s.Bytes < want || s.Bytes > want+int64(s.Files)*(64<<10+4096) {
		t.Errorf("wrote %d bytes for --size %d", s.Bytes, want)
	}
	evs := parseEvtx(t, filepath.Join(dir, "evidence", "DC01", "Windows", "System32", "winevt", "Logs", "Security.evtx"))
	if len(evs) < 500 {
		t.Errorf("DC01 Security has %d records", len(evs))
	}
	again := t.TempDir()
	if _, err := Run(Options{Out: again, Seed: 1, Hosts: 6, Days: 10, Size: want}); err != nil {
		t.Fatal(err)
	}
	ta, tb := tree(t, dir), tree(t, again)
	for k, v := range ta {
		if !bytes.Equal(v, tb[k]) {
			t.Errorf("--size output %s differs between runs", k)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "labels.jsonl")); len(b) != 0 {
		t.Error("a --size corpus is normal life: labels.jsonl must be empty")
	}
}

// Staff log on at their office arrival in Freiburg wall-clock time on
// both sides of the end of DST (25 October 2026), and the normal scenario
// has no labels.
func TestOfficeHoursAcrossDST(t *testing.T) {
	dir := t.TempDir()
	if _, err := Run(Options{Out: dir, Scenario: "normal", Seed: 8, Hosts: 6, Days: 30}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "labels.jsonl")); len(b) != 0 {
		t.Error("normal scenario has labels")
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	before, after := 0, 0
	for _, e := range parseEvtx(t, filepath.Join(dir, "evidence", "PC-001", "Windows", "System32", "winevt", "Logs", "Security.evtx")) {
		if e.EventID() != 4624 || str(e, "/Event/EventData/LogonType") != "2" {
			continue
		}
		lt := e.TimeCreated().In(berlin)
		if m := lt.Hour()*60 + lt.Minute(); m < 6*60+50 || m > 9*60+40 || lt.Weekday() == time.Saturday || lt.Weekday() == time.Sunday {
			t.Errorf("office logon at %v local", lt)
		}
		if lt.Month() == time.October && lt.Day() < 25 {
			before++
		} else {
			after++
		}
	}
	if before < 3 || after < 3 {
		t.Errorf("logons before/after the DST change: %d/%d", before, after)
	}
}

// BenchmarkBulk measures --size generation speed (bytes of EVTX per second).
func BenchmarkBulk(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Run(Options{Out: b.TempDir(), Seed: 1, Size: size}); err != nil {
			b.Fatal(err)
		}
	}
}

// The committed demo instance is exactly what the recorded command writes.
func TestCommittedInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerates 30 days")
	}
	want := filepath.Join(testutil.RepoRoot(t), "testdata", "cases", "comtech")
	o := CommittedOptions
	if *update {
		if err := os.RemoveAll(filepath.Join(want, "evidence")); err != nil {
			t.Fatal(err)
		}
		o.Out = want
		if _, err := Run(o); err != nil {
			t.Fatal(err)
		}
		return
	}
	o.Out = t.TempDir()
	if _, err := Run(o); err != nil {
		t.Fatal(err)
	}
	got, exp := tree(t, o.Out), tree(t, want)
	delete(exp, "README.md")
	if len(exp) == 0 {
		t.Fatalf("%s is empty; run go test -run TestCommittedInstance -update", want)
	}
	for k, v := range got {
		if !bytes.Equal(v, exp[k]) {
			t.Errorf("%s differs from the committed instance (go test -run TestCommittedInstance -update after review)", k)
		}
	}
	for k := range exp {
		if _, ok := got[k]; !ok {
			t.Errorf("committed %s is not generated any more", k)
		}
	}
}

// comtech-lateral: the lateral movement is labelled record by record —
// the share write, the service and the service binary's children on
// ERP01, the wmiexec commands on DC02, the task created and deleted on
// BACKUP01, the payload service on FS01 — all linked to the FS01
// session; normal life has the look-alikes but no such labels.
func TestLateralLabels(t *testing.T) {
	dir, _ := small(t, "comtech-lateral", 5)
	labels := readLabels(t, dir)
	var sess string
	for _, l := range labels {
		if l.Kind == "rmm_session" && l.Host == "FS01" {
			sess = l.SessionID
		}
	}
	got := map[string]map[uint16]bool{}
	for _, l := range labels {
		switch l.Kind {
		case "lateral_service", "remote_recon", "remote_wmi", "remote_task", "persistence_service", "lateral_command", "rdp_tunnel", "remote_enum", "remote_winrm", "credential_dump", "new_admin":
		default:
			continue
		}
		if l.SessionID != sess {
			t.Errorf("%s label on %s not linked to the FS01 session", l.Kind, l.Host)
		}
		for _, ev := range l.Evidence {
			if ev.RecordID == 0 {
				continue
			}
			e := parseEvtx(t, filepath.Join(dir, filepath.FromSlash(ev.File)))[int64(ev.RecordID)]
			if e == nil {
				t.Fatalf("%s record %d missing", ev.File, ev.RecordID)
			}
			if got[l.Host] == nil {
				got[l.Host] = map[uint16]bool{}
			}
			got[l.Host][uint16(e.EventID())] = true
			if e.EventID() == 7045 && l.Host == "ERP01" && !strings.HasPrefix(str(e, "/Event/EventData/ImagePath"), `%SystemRoot%\`) {
				t.Errorf("PsExec-style service image %q", str(e, "/Event/EventData/ImagePath"))
			}
		}
	}
	want := map[string][]uint16{"DC01": {5145}, "ERP01": {5145, 7045, 4688, 1, 4799, 4720, 4732}, "DC02": {4688, 10}, "BACKUP01": {4698, 4699, 4688, 1}, "FS01": {7045, 1149, 4624, 21}}
	for h, ids := range want {
		for _, id := range ids {
			if !got[h][id] {
				t.Errorf("no labelled %d on %s", id, h)
			}
		}
	}
	ndir, _ := small(t, "normal", 5)
	for _, l := range readLabels(t, ndir) {
		t.Errorf("normal life has a label: %s", l.Kind)
	}
}
