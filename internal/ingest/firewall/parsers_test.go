package firewall

import (
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// flow is the typed-column view of an event that most tests check.
type flow struct {
	src   string
	sport int32
	dst   string
	dport int32
	proto string
	act   string
	out   int64
	in    int64
}

func flowOf(ev *event.Event) flow {
	return flow{ev.SrcIP, ev.SrcPort.V, ev.DstIP, ev.DstPort.V, ev.Protocol, ev.Action, ev.BytesOut.V, ev.BytesIn.V}
}

func one(t *testing.T, p input.Parser, text string) *event.Event {
	t.Helper()
	evs, st := parseString(t, p, text, testConfig(t, ""))
	if len(evs) != 1 {
		t.Fatalf("%d events (stats %+v), want 1", len(evs), st)
	}
	return evs[0]
}

func hasNote(st *input.Stats, sub string) bool {
	for _, n := range st.Notes {
		if strings.Contains(n, sub) {
			return true
		}
	}
	return false
}

// Europe/Berlin: 2024-03-31 02:00 → 03:00 (gap), 2024-10-27 03:00 → 02:00
// (overlap). Expected instants worked out by hand from the offsets.
func TestDSTGapAndOverlap(t *testing.T) {
	cfg := testConfig(t, "source_timezones:\n  pfirewall: Europe/Berlin\n")
	rows := []struct{ wall, want string }{
		{"2024-03-31 01:59:59", "2024-03-31T00:59:59Z"},
		{"2024-03-31 02:30:00", "2024-03-31T01:30:00Z"}, // gap: read as +01:00, i.e. 03:30 CEST
		{"2024-03-31 03:00:00", "2024-03-31T01:00:00Z"},
		{"2024-10-27 02:10:00", "2024-10-27T00:10:00Z"}, // first pass (CEST)
		{"2024-10-27 02:50:00", "2024-10-27T00:50:00Z"},
		{"2024-10-27 02:05:00", "2024-10-27T01:05:00Z"}, // second pass (CET): the file went back
		{"2024-10-27 02:40:00", "2024-10-27T01:40:00Z"},
		{"2024-10-27 03:10:00", "2024-10-27T02:10:00Z"},
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.wall + " ALLOW TCP 10.0.0.1 10.0.0.2 1000 443 0 - - - - - - - SEND\n")
	}
	evs, st := parseString(t, PFirewall{}, b.String(), cfg)
	if len(evs) != len(rows) {
		t.Fatalf("%d events, want %d", len(evs), len(rows))
	}
	for i, r := range rows {
		if got := evs[i].Time; !got.Equal(utc(r.want)) {
			t.Errorf("%s: got %s, want %s", r.wall, got.Format(time.RFC3339), r.want)
		}
	}
	if st.TimeZone != "Europe/Berlin" {
		t.Errorf("TimeZone = %q", st.TimeZone)
	}
	if !hasNote(st, "DST gap") || !hasNote(st, "DST overlap") {
		t.Errorf("notes %v lack the DST gap/overlap remarks", st.Notes)
	}
}

func TestYearInference(t *testing.T) {
	line := func(stamp string) string {
		return stamp + " fw kernel: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=40 PROTO=TCP SPT=1 DPT=2\n"
	}
	t.Run("window across new year", func(t *testing.T) {
		cfg := testConfig(t, "window:\n  from: 2024-12-01\n  to: 2025-02-01\n")
		evs, st := parseString(t, IPTables{}, line("Dec 31 23:59:59")+line("Jan  1 00:00:01"), cfg)
		if !evs[0].Time.Equal(utc("2024-12-31T23:59:59Z")) || !evs[1].Time.Equal(utc("2025-01-01T00:00:01Z")) {
			t.Errorf("got %s, %s", evs[0].Time, evs[1].Time)
		}
		if !hasNote(st, "case window") {
			t.Errorf("notes %v", st.Notes)
		}
	})
	t.Run("dated line in the file wins", func(t *testing.T) {
		text := "Jun  2 10:00:00 fw firewalld: 2019-06-02 10:00:00 ERROR: x\n" + line("Jun  3 11:00:00")
		evs, st := parseString(t, IPTables{}, text, testConfig(t, ""))
		if evs[1].Time.Year() != 2019 || !hasNote(st, "dated lines") {
			t.Errorf("year %d, notes %v", evs[1].Time.Year(), st.Notes)
		}
	})
	t.Run("leap day", func(t *testing.T) {
		evs, _ := parseString(t, IPTables{}, line("Feb 29 12:00:00"), testConfig(t, ""))
		if !evs[0].Time.Equal(utc("2024-02-29T12:00:00Z")) {
			t.Errorf("got %s", evs[0].Time)
		}
	})
}

func TestSyslogHeader(t *testing.T) {
	c := newClock(&input.Input{Config: testConfig(t, "")}, "x", &input.Stats{})
	for _, r := range []struct {
		line, host, tag, msg, time string
	}{
		{"Nov  8 12:37:34 pfSense filterlog: 5,,,", "pfSense", "filterlog", "5,,,", "2024-11-08T12:37:34Z"},
		{"Jan 22 18:34:00 filterlog: 65,,", "", "filterlog", "65,,", "2024-01-22T18:34:00Z"},
		{"<191>Aug  1 14:01:20 abc-asa1: %ASA-6-302013: Built", "", "abc-asa1", "%ASA-6-302013: Built", "2024-08-01T14:01:20Z"},
		{"Oct 03 2018 17:34:08: %ASA-4-106023: Deny", "", "", "%ASA-4-106023: Deny", "2018-10-03T17:34:08Z"},
		{"2018 Apr 09 16:03:37 mgr->1.2.3.4 date=2018-04-09", "mgr->1.2.3.4", "", "date=2018-04-09", "2018-04-09T16:03:37Z"},
		{"<134>1 2021-11-10T10:45:47+01:00 opn.local filterlog 66946 - [meta sequenceId=\"1\"] 96,,,x", "opn.local", "filterlog", "96,,,x", "2021-11-10T09:45:47Z"},
		{"Mar  8 20:16:44 black kernel: [20474.050964] SFW2", "black", "kernel", "[20474.050964] SFW2", "2024-03-08T20:16:44Z"},
		{"2014-05-23T10:25:58.681222-04:00 10.10.10.1 ssg5: NetScreen", "10.10.10.1", "ssg5", "NetScreen", "2014-05-23T14:25:58.681222Z"},
	} {
		h, ok := parseSyslog(r.line, c)
		if !ok || h.host != r.host || h.tag != r.tag || h.msg != r.msg || !h.t.Equal(utc(r.time)) {
			t.Errorf("%q:\n got ok=%v host=%q tag=%q msg=%q t=%s", r.line, ok, h.host, h.tag, h.msg, h.t.Format(time.RFC3339Nano))
		}
	}
	if _, ok := parseSyslog("IN=eth0 OUT= SRC=1.2.3.4", c); ok {
		t.Error("bare netfilter line taken for a syslog header")
	}
	if h, _ := parseSyslog("May 00 00:00:00 XXX 1,2020", c); !h.timeBad || !h.t.IsZero() {
		t.Errorf("impossible day accepted: %+v", h)
	}
}

func TestFilterlogVariants(t *testing.T) {
	for _, r := range []struct {
		name, line string
		host       string
		want       flow
	}{
		{"opnsense rfc5424 tcp", `<134>1 2021-11-10T10:45:47+01:00 OPNsense.localdomain filterlog 66946 - [meta sequenceId="1"] 96,,,fae559338f65e11c53669fc3642c93c2,vtnet0,match,pass,out,4,0x0,,64,25349,0,DF,6,tcp,60,192.168.1.100,1.1.1.1,34354,443,0,S,3489382332,,64240,,mss;sackOK;TS;nop;wscale`,
			"OPNsense.localdomain", flow{"192.168.1.100", 34354, "1.1.1.1", 443, "tcp", "allow", 60, 0}},
		{"ipv6 udp", `Jan  5 10:00:00 fw filterlog[123]: 100,,,1000000103,igb0,match,block,in,6,0x00,0x00000,64,udp,17,52,2001:db8::1,2001:db8::2,5353,5353,52`,
			"fw", flow{"2001:db8::1", 5353, "2001:db8::2", 5353, "udp", "deny", 0, 52}},
		{"ipv6 icmp", `Jan  5 10:00:01 fw filterlog: 8,,,1000000006,igb1,match,block,in,6,0x00,0x00000,255,ipv6-icmp,58,32,fe80::1,ff02::16,HBH,PADN,RTALERT,0x0000,`,
			"fw", flow{"fe80::1", 0, "ff02::16", 0, "icmpv6", "deny", 0, 32}},
		{"reject", `Jan  5 10:00:02 fw filterlog: 9,,,1000000007,igb1,match,reject,in,4,0x0,,64,1,0,none,6,tcp,40,10.0.0.1,10.0.0.2,1,2,0,R,1,,0,,`,
			"fw", flow{"10.0.0.1", 1, "10.0.0.2", 2, "tcp", "reject", 0, 40}},
	} {
		t.Run(r.name, func(t *testing.T) {
			ev := one(t, Filterlog{}, r.line)
			if got := flowOf(ev); got != r.want || ev.Host != r.host {
				t.Errorf("got %+v host %q, want %+v host %q", got, ev.Host, r.want, r.host)
			}
		})
	}
	_, st := parseString(t, Filterlog{}, "Jan  5 10:00:02 fw dhcpd: DHCPACK on 10.0.0.9\nJan  5 10:00:02 fw filterlog: 9,,,1,igb1,match,pass,in,4,0x0\n", nil)
	if st.Skipped != 2 || st.Reasons["not a filterlog record"] != 1 || st.Reasons["short filterlog record"] != 1 {
		t.Errorf("skips %+v", st.Reasons)
	}
}

func TestASAConnections(t *testing.T) {
	text := strings.Join([]string{
		"Sep  7 06:25:28 fw1 %ASA-6-302013: Built outbound TCP connection 77 for outside:93.184.216.34/443 (93.184.216.34/443) to inside:10.0.0.5/51000 (198.51.100.2/51000)",
		"Sep  7 06:30:00 fw1 %ASA-6-302014: Teardown TCP connection 77 for outside:93.184.216.34/443 to inside:10.0.0.5/51000 duration 0:04:32 bytes 123456 TCP FINs",
		"Sep  7 06:31:00 fw1 %ASA-4-106023: Deny icmp src outside:192.0.2.1 dst inside:10.0.0.9 (type 8, code 0) by access-group \"acl_out\" [0x0, 0x0]",
		"Sep  7 06:32:00 fw1 %ASA-6-106100: access-list inside permitted udp inside/10.0.0.7(5353) -> outside/2001:db8::53(53) hit-cnt 1 first hit [0x1, 0x0]",
		"Sep  7 06:33:00 fw1 %FTD-6-430003: DeviceUUID: abc, AccessControlRuleAction: Block, SrcIP: 10.0.0.8, DstIP: 203.0.113.9, SrcPort: 50123, DstPort: 3389, Protocol: tcp, InitiatorIP: 10.0.0.8, ResponderIP: 203.0.113.9, InitiatorPort: 50123, ResponderPort: 3389, InitiatorBytes: 120, ResponderBytes: 0",
		"Sep  7 06:34:00 fw1 %ASA-6-305011: Built dynamic TCP translation from inside:10.0.0.5/51000 to outside:198.51.100.2/51000",
		"Sep  7 06:35:00 fw1 %ASA-3-710003: TCP access denied by ACL from 192.0.2.7/4444 to outside:198.51.100.2/ssh",
		"garbage line that is nothing",
	}, "\n")
	evs, st := parseString(t, ASA{}, text, testConfig(t, ""))
	want := []flow{
		{"10.0.0.5", 51000, "93.184.216.34", 443, "tcp", "open", 0, 0},
		{"10.0.0.5", 51000, "93.184.216.34", 443, "tcp", "close", 123456, 0}, // direction from the built message
		{"192.0.2.1", 0, "10.0.0.9", 0, "icmp", "deny", 0, 0},
		{"10.0.0.7", 5353, "2001:db8::53", 53, "udp", "allow", 0, 0},
		{"10.0.0.8", 50123, "203.0.113.9", 3389, "tcp", "deny", 120, 0},
		{"10.0.0.5", 51000, "198.51.100.2", 51000, "tcp", "open", 0, 0},
		{"192.0.2.7", 4444, "198.51.100.2", 22, "tcp", "deny", 0, 0},
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, w := range want {
		if got := flowOf(evs[i]); got != w {
			t.Errorf("event %d: got %+v, want %+v", i, got, w)
		}
		if evs[i].Host != "fw1" {
			t.Errorf("event %d: host %q", i, evs[i].Host)
		}
	}
	if evs[1].SessionID != "77" || evs[1].EventID != 302014 || evs[1].Field("duration") != "0:04:32" {
		t.Errorf("teardown: %+v", evs[1])
	}
	if evs[4].Field("product") != "FTD" {
		t.Errorf("product %q", evs[4].Field("product"))
	}
	if st.Skipped != 1 || !strings.Contains(st.Errors[0], "line 8:") {
		t.Errorf("skips %d, errors %v", st.Skipped, st.Errors)
	}
}

func TestFortiGateTimes(t *testing.T) {
	cfg := testConfig(t, "source_timezones:\n  fortigate: Europe/Berlin\n")
	text := strings.Join([]string{
		`date=2024-07-01 time=12:00:00 devname="FW1" logid="0000000013" type="traffic" subtype="forward" tz="+0200" srcip=10.0.0.1 srcport=5000 dstip=8.8.8.8 dstport=53 proto=17 action="accept" sentbyte=60 rcvdbyte=120`,
		`date=2024-07-01 time=12:00:00 devname="FW1" logid="0000000013" type="traffic" subtype="forward" eventtime=1719828000123456789 srcip=10.0.0.1 dstip=8.8.8.8 proto=6 action="close"`,
		`date=2024-07-01 time=12:00:00 devname="FW1" logid="0000000013" type="traffic" subtype="forward" srcip=10.0.0.1 dstip=8.8.8.8 proto=1 action="deny"`,
		`Dec 23 11:13:03 date=2011-07-24 time=10: 13:03 devname=FW2 log_id=0038016004 type=traffic subtype=other status=deny src=10.3.3.3 dst=10.4.4.4 proto=6 service=tcp sent=0 rcvd=0`,
		`Jul  1 12:00:00 fw sshd[1]: Accepted password for root`,
	}, "\n")
	evs, st := parseString(t, FortiGate{}, text, cfg)
	if len(evs) != 4 {
		t.Fatalf("%d events", len(evs))
	}
	for i, w := range []string{"2024-07-01T10:00:00Z", "2024-07-01T10:00:00.123456789Z", "2024-07-01T10:00:00Z", "2011-07-24T08:13:03Z"} {
		if !evs[i].Time.Equal(utc(w)) {
			t.Errorf("event %d: %s, want %s", i, evs[i].Time.Format(time.RFC3339Nano), w)
		}
	}
	if f := flowOf(evs[0]); f != (flow{"10.0.0.1", 5000, "8.8.8.8", 53, "udp", "allow", 60, 120}) {
		t.Errorf("flow %+v", f)
	}
	if evs[3].Field("time") != "10:13:03" || evs[3].Host != "FW2" || evs[3].Action != "deny" {
		t.Errorf("FortiOS 4 line: time %q host %q action %q", evs[3].Field("time"), evs[3].Host, evs[3].Action)
	}
	if st.Reasons["not a FortiGate record"] != 1 {
		t.Errorf("reasons %v", st.Reasons)
	}
}

func TestIPTablesVariants(t *testing.T) {
	for _, r := range []struct {
		line    string
		variant string
		want    flow
	}{
		{"May 28 17:23:25 myHost kernel: [3124658.791874] Shorewall:net2fw:DROP:IN=eth2 OUT= SRC=1.2.3.4 DST=192.168.0.10 LEN=141 PROTO=UDP SPT=5353 DPT=5335 LEN=121",
			"shorewall", flow{"1.2.3.4", 5353, "192.168.0.10", 5335, "udp", "drop", 0, 141}},
		{"May 28 17:23:25 h kernel: filter_IN_public_REJECT: IN=eth0 OUT= MAC=aa SRC=10.0.0.3 DST=10.0.0.4 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=40000 DPT=8080 WINDOW=29200 RES=0x00 SYN URGP=0",
			"firewalld", flow{"10.0.0.3", 40000, "10.0.0.4", 8080, "tcp", "reject", 0, 60}},
		{"May 28 17:23:25 h kernel: FINAL_REJECT: IN=eth0 OUT= SRC=10.0.0.3 DST=10.0.0.4 LEN=84 PROTO=ICMP TYPE=8 CODE=0 ID=1 SEQ=1",
			"firewalld", flow{"10.0.0.3", 0, "10.0.0.4", 0, "icmp", "reject", 0, 84}},
		{"May 28 17:23:25 h kernel: OUTBOUND IN= OUT=eth0 SRC=2001:db8::1 DST=2001:db8::2 LEN=80 PROTO=ICMPv6 TYPE=128 CODE=0",
			"", flow{"2001:db8::1", 0, "2001:db8::2", 0, "icmpv6", "log", 80, 0}},
	} {
		ev := one(t, IPTables{}, r.line)
		if got := flowOf(ev); got != r.want || ev.Field("variant") != r.variant {
			t.Errorf("%s:\n got %+v variant %q", r.line, got, ev.Field("variant"))
		}
	}
	ev := one(t, IPTables{}, "Jan 29 00:00:28 myth kernel: X IN=ppp0 OUT= SRC=24.64.208.134 DST=216.58.112.55 LEN=512 PROTO=UDP SPT=1 DPT=2 LEN=492")
	if ev.Field("LEN") != "512" || ev.Field("LEN_2") != "492" {
		t.Errorf("repeated key: LEN=%q LEN_2=%q", ev.Field("LEN"), ev.Field("LEN_2"))
	}
}

func TestPFirewallVariants(t *testing.T) {
	t.Run("no header, 17 and 18 columns, run-together, malformed", func(t *testing.T) {
		text := "2019-11-06 12:35:19 DROP UDP 5.5.3.197 224.0.0.251 5353 5353 59 - - - - - - - RECEIVE\n" +
			"2023-11-26 22:27:57 ALLOW TCP 192.168.10.106 192.229.221.95 65457 80 0 - 0 0 0 - - - SEND 1360\n" +
			"2006-09-19 03:38:39 OPEN UDP 192.168.72.12 129.6.15.28 123 123 - - - - - - - - -2006-09-19 03:39:05 CLOSE UDP 192.168.72.12 10.20.72.186 1025 53 - - - - - - - - -\n" +
			"2006-09-19 nonsense\n"
		evs, st := parseString(t, PFirewall{}, text, nil)
		if len(evs) != 4 || st.Skipped != 1 {
			t.Fatalf("%d events, %d skipped", len(evs), st.Skipped)
		}
		if evs[1].Field("pid") != "1360" || evs[1].Action != "allow" {
			t.Errorf("pid %q action %q", evs[1].Field("pid"), evs[1].Action)
		}
		if evs[2].Offset != 3 || evs[3].Offset != 3 || evs[3].DstPort.V != 53 || evs[3].Action != "close" {
			t.Errorf("run-together: %+v / %+v", flowOf(evs[2]), flowOf(evs[3]))
		}
	})
	t.Run("UTF-16LE with BOM and CRLF", func(t *testing.T) {
		text := "#Version: 1.5\r\n#Software: Microsoft Windows Firewall\r\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path\r\n\r\n" +
			"2024-05-01 08:00:00 DROP ICMP 10.0.0.1 10.0.0.2 - - 60 - - - - 8 0 - RECEIVE\r\n"
		u := utf16.Encode([]rune(text))
		raw := []byte{0xff, 0xfe}
		for _, c := range u {
			raw = append(raw, byte(c), byte(c>>8))
		}
		in := inputFromBytes(t, "pfirewall.log", raw, testConfig(t, ""))
		if s := (PFirewall{}).Detect(in); s != 100 {
			t.Fatalf("Detect = %d", s)
		}
		evs, _ := ingesttest.ParseAll(t, PFirewall{}, in)
		if len(evs) != 1 || evs[0].Protocol != "icmp" || evs[0].Field("icmptype") != "8" || evs[0].BytesIn.V != 60 || !evs[0].Time.Equal(utc("2024-05-01T08:00:00Z")) {
			t.Fatalf("got %+v", evs)
		}
	})
}

func TestSophosVariants(t *testing.T) {
	utm := `2017:07:18-10:45:45 utm-1 ulogd[5293]: id="2001" severity="info" sys="SecureNet" sub="packetfilter" name="Packet dropped" action="drop" fwrule="60001" initf="eth0" srcmac="00:11:22:33:44:55" srcip="10.0.0.5" dstip="192.0.2.10" proto="6" length="52" tos="0x00" prec="0x00" ttl="128" srcport="50000" dstport="443" tcpflags="SYN"`
	ev := one(t, Sophos{}, utm)
	if f := flowOf(ev); f != (flow{"10.0.0.5", 50000, "192.0.2.10", 443, "tcp", "drop", 0, 0}) || ev.Host != "utm-1" || !ev.Time.Equal(utc("2017-07-18T10:45:45Z")) {
		t.Errorf("UTM: %+v host %q time %s", f, ev.Host, ev.Time)
	}
	sfos := `device_name="SFW" timestamp="2023-01-30T12:44:53+0100" device_model="XGS2100" log_id=010101600001 log_type="Firewall" log_component="Firewall Rule" log_subtype="Allowed" fw_rule_id=5 src_ip=fd00::5 dst_ip=2001:db8::80 protocol="TCP" src_port=50001 dst_port=80 sent_bytes=100 recv_bytes=2000`
	ev = one(t, Sophos{}, sfos)
	if f := flowOf(ev); f != (flow{"fd00::5", 50001, "2001:db8::80", 80, "tcp", "allow", 100, 2000}) || !ev.Time.Equal(utc("2023-01-30T11:44:53Z")) {
		t.Errorf("SFOS: %+v time %s", f, ev.Time)
	}
}

func TestPaloAltoTraffic(t *testing.T) {
	vals := make([]string, 60)
	set := map[int]string{1: "2024/03/05 10:00:01", 2: "0011C100000", 3: "TRAFFIC", 4: "end", 6: "2024/03/05 10:00:00",
		7: "10.0.0.5", 8: "203.0.113.7", 24: "50000", 25: "443", 29: "tcp", 30: "allow", 31: "3000", 32: "1000", 33: "2000",
		22: "4242", 12: "corp\\alice", 52: "PA-FW-1"}
	for i, v := range set {
		vals[i] = v
	}
	ev := one(t, PaloAlto{}, "Mar  5 10:00:02 pa-syslog "+strings.Join(vals, ","))
	if f := flowOf(ev); f != (flow{"10.0.0.5", 50000, "203.0.113.7", 443, "tcp", "allow", 1000, 2000}) {
		t.Errorf("flow %+v", f)
	}
	if ev.Host != "PA-FW-1" || ev.User != `corp\alice` || ev.SessionID != "4242" || !ev.Time.Equal(utc("2024-03-05T10:00:00Z")) {
		t.Errorf("host %q user %q session %q time %s", ev.Host, ev.User, ev.SessionID, ev.Time)
	}
}

func TestZeekEdgeCases(t *testing.T) {
	tsv := "#separator \\x7c\n#set_separator|,\n#empty_field|(empty)\n#unset_field|-\n#path|conn\n#fields|ts|uid|id.orig_h|id.orig_p|id.resp_h|id.resp_p|proto|orig_bytes|resp_bytes|conn_state|tunnel_parents\n#types|time|string|addr|port|addr|port|enum|count|count|string|set[string]\n" +
		"1700000000.5|C1|2001:db8::1|5000|2001:db8::2|443|tcp|-|10|REJ|(empty)\n" +
		"1700000000.5|C1|short\n"
	evs, st := parseString(t, Zeek{}, tsv, nil)
	if len(evs) != 1 || st.Reasons["wrong number of columns"] != 1 {
		t.Fatalf("%d events, reasons %v", len(evs), st.Reasons)
	}
	ev := evs[0]
	if f := flowOf(ev); f != (flow{"2001:db8::1", 5000, "2001:db8::2", 443, "tcp", "reject", 0, 10}) || !ev.Time.Equal(utc("2023-11-14T22:13:20.5Z")) {
		t.Errorf("flow %+v time %s", f, ev.Time)
	}
	if v, _ := ev.Fields.Get("orig_bytes"); v != nil {
		t.Errorf("unset orig_bytes = %v, want nil", v)
	}
	if v, _ := ev.Fields.Get("resp_bytes"); v != int64(10) {
		t.Errorf("resp_bytes = %#v, want int64 10", v)
	}
	js := `{"_path":"conn","ts":"2019-01-29T01:35:38.542Z","uid":"C2","id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":22,"proto":"tcp","orig_bytes":5,"resp_bytes":7,"conn_state":"SF"}` + "\n" +
		`{"ts":1,"uid":` + "\n" + strings.Repeat("[", 100) + "\n" + `{"ts":1,"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}\n"
	evs, st = parseString(t, ZeekJSON{}, js, nil)
	if len(evs) != 1 || st.Reasons["bad JSON"] != 2 || st.Reasons["not a JSON object"] != 1 {
		t.Fatalf("%d events, reasons %v", len(evs), st.Reasons)
	}
	if f := flowOf(evs[0]); f != (flow{"10.0.0.1", 1, "10.0.0.2", 22, "tcp", "close", 5, 7}) || !evs[0].Time.Equal(utc("2019-01-29T01:35:38.542Z")) || evs[0].Channel != "conn" {
		t.Errorf("json: %+v %s %q", f, evs[0].Time, evs[0].Channel)
	}
}

func TestLongLineCounted(t *testing.T) {
	text := "2024-05-01 08:00:00 DROP TCP 10.0.0.1 10.0.0.2 1 2 60 - - - - - - - RECEIVE\n" + strings.Repeat("x", textio.MaxLine+10) + "\n" +
		"2024-05-01 08:00:01 DROP TCP 10.0.0.1 10.0.0.2 1 2 60 - - - - - - - RECEIVE\n"
	evs, st := parseString(t, PFirewall{}, text, nil)
	if len(evs) != 2 || st.Reasons["line too long"] != 1 || evs[1].Offset != 3 {
		t.Fatalf("%d events, reasons %v", len(evs), st.Reasons)
	}
}

// A generic syslog file is none of these formats: every parser stays
// at or below 20 so a declarative definition can claim it.
func TestDetectGenericSyslogLow(t *testing.T) {
	text := "Jan  1 00:00:00 host sshd[1]: Accepted password for root from 10.0.0.1 port 22 ssh2\nJan  1 00:00:01 host CRON[2]: (root) CMD (true)\n"
	in := inputFromBytes(t, "auth.log", []byte(text), nil)
	for _, p := range Parsers() {
		if s := p.Detect(in); s > 20 {
			t.Errorf("%s: %d", p.Name(), s)
		}
	}
}

// Hostile lines full of repeats must still come out whole: every
// repeated key numbered, none lost (the writer keeps this linear).
func TestRepeatedKeys(t *testing.T) {
	const n = 20000
	line := "Jan  1 00:00:00 h kernel: IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 PROTO=TCP" + strings.Repeat(" SYN", n)
	ev := one(t, IPTables{}, line)
	for _, k := range []string{"SYN", "SYN_2", "SYN_" + itoa(n)} {
		if _, ok := ev.Fields.Get(k); !ok {
			t.Fatalf("%s missing; %d fields", k, ev.Fields.Len())
		}
	}
	if _, ok := ev.Fields.Get("SYN_" + itoa(n+1)); ok {
		t.Fatalf("more SYN fields than words")
	}
	if got := netfilterStart(strings.Repeat("IN=", 100000)); got != -1 {
		t.Fatalf("netfilterStart = %d", got)
	}
}
