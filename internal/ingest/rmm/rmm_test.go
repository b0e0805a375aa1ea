package rmm

import (
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
)

func berlin(t testing.TB) *caseconf.Config {
	t.Helper()
	c, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\nsource_timezones:\n  rmm: Europe/Berlin\n"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Windows ad_svc.trace lines as write-ups quote them (fibre column, auth
// and file-transfer strings), with a CRLF ending and a line of NULs.
const winTrace = "   info 2026-11-14 23:10:01.100  gsvc  NA  4312  4400  12  anynet.any_socket - Accept request from 987654321 (via relay).\r\n" +
	"   info 2026-11-14 23:10:01.300  gsvc  NA  4312  4400  12  anynet.any_socket - Logged in from 198.51.100.23:50123 on relay 5e1c0b2a.\r\n" +
	"\x00\x00\x00\x00\r\n" +
	"   auth 2026-11-14 23:10:05.000  gsvc  NA  4312  4400  13  app.session - 3: Authenticated with correct passphrase.\r\n" +
	"   info 2026-11-14 23:12:00.000  gsvc  NA  4312  4401  14  app.prepare_task - Preparing files in 'C:\\Users\\admin\\Desktop'.\r\n" +
	"garbage that is not a trace line\r\n" +
	"   info 2026-11-14 23:20:00.000  gsvc  NA  4312  4400  12  app.session - Session closed by remote side: user_exit.\r\n"

func TestAnyDeskTraceWindowsLines(t *testing.T) {
	in := ingesttest.Input([]byte(winTrace), "C/ProgramData/AnyDesk/ad_svc.trace", berlin(t))
	p := ingesttest.Detect(t, Parsers(), in)
	if p == nil || p.Name() != "anydesk-trace" {
		t.Fatalf("detected %v", p)
	}
	evs, st := ingesttest.ParseAll(t, p, in)
	if len(evs) != 5 || st.Skipped != 2 || st.Reasons[reasonPadding] != 1 || st.Reasons[reasonUnknown] != 1 {
		t.Fatalf("events %d stats %+v", len(evs), st)
	}
	if !strings.Contains(st.Errors[0], "ad_svc.trace:6:") {
		t.Errorf("skip detail lacks position: %v", st.Errors)
	}
	start, login, auth, ft, end := evs[0], evs[1], evs[2], evs[3], evs[4]
	// 23:10:01 Berlin in November is UTC+1.
	if !start.Time.Equal(time.Date(2026, 11, 14, 22, 10, 1, 100e6, time.UTC)) || st.TimeZone != "Europe/Berlin" {
		t.Errorf("time %v zone %q", start.Time, st.TimeZone)
	}
	sid := start.SessionID
	if start.Action != event.ActionSessionStart || start.Operator != "987654321" || sid == "" {
		t.Errorf("start %+v", start)
	}
	if login.Action != event.ActionLogin || login.SrcIP != "198.51.100.23" || login.SessionID != sid || login.Operator != "987654321" {
		t.Errorf("login %+v", login)
	}
	if auth.Action != event.ActionLogin || auth.SessionID != sid || auth.Field("level") != "auth" {
		t.Errorf("auth %+v", auth)
	}
	if ft.Action != event.ActionFileTransfer || ft.SessionID != sid || ft.Offset != 5 {
		t.Errorf("file transfer %+v", ft)
	}
	if end.Action != event.ActionSessionEnd || end.SessionID != sid || end.SrcIP != "198.51.100.23" {
		t.Errorf("end %+v", end)
	}
	if end.Source != "rmm" || end.Format != "anydesk-trace" || end.Evidence != "C/ProgramData/AnyDesk/ad_svc.trace" || end.Offset != 7 {
		t.Errorf("columns %+v", end)
	}
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xFF, 0xFE}
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}

// Windows writes Connections_incoming.txt as UTF-16 on some versions; the
// rows' zone-less times fall in the spring DST gap and autumn overlap.
func TestTeamViewerConnectionsUTF16AndDST(t *testing.T) {
	rows := "123456789\tMSP Tech\t29-03-2026 02:30:00\t25-10-2026 02:30:00\tAdministrator\tRemoteControl\t{11111111-2222-3333-4444-555555555555}\t\r\n" +
		"broken row\r\n"
	good := rows[:strings.Index(rows, "broken")]
	if p := ingesttest.Detect(t, Parsers(), ingesttest.Input(utf16le(good), "c.txt", nil)); p == nil || p.Name() != "teamviewer-connections" {
		t.Fatalf("UTF-16 file detected as %v", p)
	}
	in := ingesttest.Input(utf16le(rows), "Program Files/TeamViewer/Connections_incoming.txt", berlin(t))
	evs, st := ingesttest.ParseAll(t, tvConnections{}, in)
	if len(evs) != 2 || st.Reasons[reasonUnknown] != 1 {
		t.Fatalf("events %d stats %+v", len(evs), st)
	}
	// 02:30 does not exist on 29 March (gap): read with +01:00.
	if !evs[0].Time.Equal(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) {
		t.Errorf("gap time %v", evs[0].Time)
	}
	// 02:30 on 25 October happens twice: the first, +02:00.
	if !evs[1].Time.Equal(time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)) {
		t.Errorf("overlap time %v", evs[1].Time)
	}
	notes := strings.Join(st.Notes, " ")
	if !strings.Contains(notes, "DST gap") || !strings.Contains(notes, "DST overlap") {
		t.Errorf("DST not noted: %v", st.Notes)
	}
	if evs[0].User != "Administrator" || evs[0].Operator != "123456789" || evs[0].SessionID != "{11111111-2222-3333-4444-555555555555}" {
		t.Errorf("columns %+v", evs[0])
	}
	if evs[0].Field("partner_name") != "MSP Tech" {
		t.Errorf("fields %v", evs[0].Fields)
	}
}

func TestAnyDeskConnectionTraceRejected(t *testing.T) {
	data := "Incoming    2026-11-14, 23:05    REJECTED    evil@ad    111222333\nOutgoing    2026-11-15, 08:00    User    helpdesk    444555666\n"
	in := ingesttest.Input([]byte(data), "connection_trace.txt", nil)
	p := ingesttest.Detect(t, Parsers(), in)
	if p == nil || p.Name() != "anydesk-connection-trace" {
		t.Fatalf("detected %v", p)
	}
	evs, _ := ingesttest.ParseAll(t, p, in)
	if len(evs) != 2 || evs[0].Action != event.ActionLoginFailed || evs[0].Operator != "111222333" || evs[1].Action != event.ActionOutgoingSession {
		t.Fatalf("events %+v", evs)
	}
	if evs[0].Field("alias") != "evil@ad" {
		t.Errorf("alias %q", evs[0].Field("alias"))
	}
}

func TestTeamViewerLogfileClassify(t *testing.T) {
	data := "Start:              2026/11/14 23:00:00.000 (UTC+1:00)\n" +
		"2026/11/14 23:01:00.100  2804       2904 S0   punch received a=203.0.113.50:61000: Received Punch\n" +
		"2026/11/14 23:01:02.000  2804       2904 S0   CPersistentParticipantManager::AddParticipants: [1234567890,1] type=3\n" +
		"2026/11/14 23:30:00.000  2804       2904 S0   CStreamManager[2]::ReceivedEndSession(): reason=1\n"
	in := ingesttest.Input([]byte(data), "TeamViewer15_Logfile.log", nil)
	p := ingesttest.Detect(t, Parsers(), in)
	if p == nil || p.Name() != "teamviewer-logfile" {
		t.Fatalf("detected %v", p)
	}
	evs, st := ingesttest.ParseAll(t, p, in)
	if len(evs) != 3 || st.Reasons[reasonHeader] != 1 {
		t.Fatalf("events %d stats %+v", len(evs), st)
	}
	if evs[0].Action != event.ActionConnect || evs[0].SrcIP != "203.0.113.50" {
		t.Errorf("punch %+v", evs[0])
	}
	if evs[1].Action != event.ActionSessionStart || evs[1].Operator != "1234567890" || evs[2].Action != event.ActionSessionEnd {
		t.Errorf("session %+v %+v", evs[1], evs[2])
	}
}

func TestDetectDeclinesOtherText(t *testing.T) {
	for _, s := range []string{
		"2026-11-14 23:00:00 ALLOW TCP 10.0.0.1 10.0.0.2 1 2 0 - - - - - - - SEND\n",
		`{"time":"2026-11-14T23:12:05+01:00","tool":"screenconnect"}` + "\n",
		"Jun  2 14:55:46 fire00 kernel: IN=eth0 OUT= SRC=1.2.3.4\n",
		"",
	} {
		in := ingesttest.Input([]byte(s), "x", nil)
		for _, p := range Parsers() {
			if sc := p.Detect(in); sc != 0 {
				t.Errorf("%s claims %q with %d", p.Name(), s, sc)
			}
		}
	}
}

func scEvent(provider string, id int32, data string) *event.Event {
	return &event.Event{
		Time: time.Date(2026, 11, 14, 22, 12, 5, 0, time.UTC), Source: "evtx", Format: "evtx",
		Host: "SRV-DC01", Channel: "Application", Provider: provider, EventID: id, RecordID: 4711,
		Evidence: "evtx/Application.evtx", Offset: 4711,
		Fields: ordereddict.NewDict().Set("Data", data),
	}
}

func TestFromEVTXScreenConnect(t *testing.T) {
	prov := "ScreenConnect Client (a1b2c3d4e5f60718)"
	cases := []struct {
		id             int32
		data           string
		action, opname string
	}{
		{100, "Cloud Account Administrator connected", event.ActionSessionStart, "Cloud Account Administrator"},
		{101, "msp-tech3 disconnected", event.ActionSessionEnd, "msp-tech3"},
		{200, "Executed command of length: 142", event.ActionCommand, ""},
		{201, "Transferred files with action 'Transfer': recon.ps1, out.txt", event.ActionFileTransfer, ""},
		{0, "Executed command of length: 12", event.ActionCommand, ""}, // old versions: one event id for all
	}
	for _, c := range cases {
		out, ok := FromEVTX(scEvent(prov, c.id, c.data))
		if !ok {
			t.Errorf("%q not recognised", c.data)
			continue
		}
		if out.Source != "rmm" || out.Format != "screenconnect" || out.Action != c.action || out.Operator != c.opname ||
			out.Host != "SRV-DC01" || out.Evidence != "evtx/Application.evtx" || out.Offset != 4711 || !out.Time.Equal(time.Date(2026, 11, 14, 22, 12, 5, 0, time.UTC)) {
			t.Errorf("%q → %+v", c.data, out)
		}
		if out.Field("instance") != "a1b2c3d4e5f60718" {
			t.Errorf("instance %q", out.Field("instance"))
		}
	}
	out, _ := FromEVTX(scEvent(prov, 201, "Transferred files with action 'Transfer': recon.ps1, out.txt"))
	if out.Field("transfer_action") != "Transfer" || out.Field("files") != "recon.ps1, out.txt" {
		t.Errorf("transfer fields %v", out.Fields)
	}
	out, _ = FromEVTX(scEvent(prov, 200, "Executed command of length: 142"))
	if out.Field("command_length") != "142" {
		t.Errorf("length %v", out.Fields)
	}
	// Data_2 and message fallback.
	ev := scEvent(prov, 101, "")
	ev.Fields = ordereddict.NewDict().Set("Data", "").Set("Data_2", "bob disconnected")
	if out, ok := FromEVTX(ev); !ok || out.Operator != "bob" {
		t.Errorf("Data_2: %+v %v", out, ok)
	}
	ev.Fields = nil
	ev.Message = "alice connected"
	if out, ok := FromEVTX(ev); !ok || out.Operator != "alice" {
		t.Errorf("message fallback: %+v %v", out, ok)
	}
}

func TestFromEVTXDeclines(t *testing.T) {
	for _, ev := range []*event.Event{
		nil,
		scEvent("Microsoft-Windows-Security-Auditing", 4624, "x connected"),
		scEvent("ScreenConnect Client (1)", 1000, "Service started"),
		{Provider: "ScreenConnect Client (1)", Channel: "Security", Fields: ordereddict.NewDict().Set("Data", "x connected")},
	} {
		if out, ok := FromEVTX(ev); ok {
			t.Errorf("claimed %+v → %+v", ev, out)
		}
	}
}

func BenchmarkFromEVTXNonMatching(b *testing.B) {
	ev := scEvent("Microsoft-Windows-Security-Auditing", 4624, "x")
	for b.Loop() {
		FromEVTX(ev)
	}
}
