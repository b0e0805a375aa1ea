package evtxw

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/0xrawsec/golang-evtx/evtx"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// base is a Saturday night in Europe/Berlin, inside DST edge weeks on purpose.
var base = time.Date(2026, 3, 28, 23, 59, 58, 123456700, time.UTC)

const (
	secGUID  = "{54849625-5478-4994-A5BA-3E3B0328C30D}"
	psGUID   = "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}"
	sysmGUID = "{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"
	lsmGUID  = "{5D896912-022D-40AA-A3A8-4FA5515C76D7}"
)

func security(id uint16, task uint16, data ...string) *Record {
	r := &Record{
		Provider: "Microsoft-Windows-Security-Auditing", ProviderGUID: secGUID,
		EventID: id, Version: 2, Task: task, Keywords: 0x8020000000000000,
		Channel: "Security", Computer: "DC01.comtech.local", ProcessID: 668, ThreadID: 4412,
	}
	for i := 0; i+1 < len(data); i += 2 {
		r.Data = append(r.Data, Field{data[i], data[i+1]})
	}
	return r
}

// corpus returns records of every shape the generator writes, with the
// awkward values: XML specials, empty strings, non-BMP characters, CRLF.
func corpus() []*Record {
	recs := []*Record{
		security(4624, 12544,
			"SubjectUserSid", "S-1-5-18", "SubjectUserName", "DC01$", "SubjectDomainName", "COMTECH",
			"SubjectLogonId", "0x3e7", "TargetUserSid", "S-1-5-21-3623811015-3361044348-30300820-1104",
			"TargetUserName", "svc-msp-admin1", "TargetDomainName", "COMTECH", "TargetLogonId", "0x1b2c3d4",
			"LogonType", "10", "LogonProcessName", "User32 ", "AuthenticationPackageName", "Negotiate",
			"WorkstationName", "MSP-JUMP01", "LogonGuid", "{00000000-0000-0000-0000-000000000000}",
			"TransmittedServices", "-", "LmPackageName", "-", "KeyLength", "0", "ProcessId", "0x1f4",
			"ProcessName", `C:\Windows\System32\svchost.exe`, "IpAddress", "10.250.0.17", "IpPort", "0",
			"ImpersonationLevel", "%%1833", "RestrictedAdminMode", "%%1843", "TargetOutboundUserName", "-",
			"TargetOutboundDomainName", "-", "VirtualAccount", "%%1843", "TargetLinkedLogonId", "0x0",
			"ElevatedToken", "%%1842"),
		security(4625, 12544, "SubjectUserSid", "S-1-0-0", "TargetUserName", `a<b&c>"d'e`, "Status", "0xc000006d",
			"FailureReason", "%%2313", "IpAddress", "", "WorkstationName", ""),
		security(4688, 13312, "NewProcessName", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
			"CommandLine", "powershell.exe -NoP -C \"Get-ADUser -Filter * | select Name\" & echo <done>",
			"ParentProcessName", `C:\Program Files (x86)\ScreenConnect Client (a1b2c3)\ScreenConnect.ClientService.exe`),
		security(4720, 13824, "TargetUserName", "helpdesk2", "SamAccountName", "helpdesk2", "DisplayName", "%%1793"),
		security(4728, 13826, "MemberName", "CN=helpdesk2,CN=Users,DC=comtech,DC=local", "TargetUserName", "Domain Admins"),
		security(5156, 12810, "ProcessID", "4", "Application", "System", "Direction", "%%14592",
			"SourceAddress", "10.0.0.5", "SourcePort", "445", "DestAddress", "10.0.0.23", "DestPort", "51234", "Protocol", "6"),
		{
			Provider: "Microsoft-Windows-Eventlog", ProviderGUID: "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}",
			EventID: 1102, Level: 4, Task: 104, Keywords: 0x4020000000000000, Channel: "Security",
			Computer: "DC01.comtech.local", UserSID: "S-1-5-21-3623811015-3361044348-30300820-1104", ProcessID: 1020, ThreadID: 7,
			UserData: &UserData{Element: "LogFileCleared", Namespace: "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
				Fields: []Field{{"SubjectUserSid", "S-1-5-21-3623811015-3361044348-30300820-1104"},
					{"SubjectUserName", "svc-msp-admin1"}, {"SubjectDomainName", "COMTECH"}, {"SubjectLogonId", "0x1b2c3d4"}}},
		},
		{
			Provider: "Microsoft-Windows-Eventlog", ProviderGUID: "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}",
			EventID: 104, Level: 4, Task: 104, Keywords: 0x8000000000000000, Channel: "System",
			Computer: "FS01.comtech.local", UserSID: "S-1-5-18",
			UserData: &UserData{Element: "LogFileCleared", Namespace: "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
				Fields: []Field{{"SubjectUserName", "svc-msp-admin1"}, {"SubjectDomainName", "COMTECH"},
					{"Channel", "System"}, {"BackupPath", ""}}},
		},
		{
			Provider: "Service Control Manager", ProviderGUID: "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
			EventSourceName: "Service Control Manager", EventID: 7045, HasQualifiers: true, Qualifiers: 16384,
			Level: 4, Keywords: 0x8080000000000000, Channel: "System", Computer: "FS01.comtech.local",
			UserSID: "S-1-5-21-3623811015-3361044348-30300820-500", ProcessID: 640, ThreadID: 5520,
			Data: []Field{{"ServiceName", "ScreenConnect Client (a1b2c3)"},
				{"ImagePath", `"C:\Program Files (x86)\ScreenConnect Client (a1b2c3)\ScreenConnect.ClientService.exe" "?e=Access&y=Guest"`},
				{"ServiceType", "user mode service"}, {"StartType", "auto start"}, {"AccountName", "LocalSystem"}},
		},
		{
			Provider: "Microsoft-Windows-PowerShell", ProviderGUID: psGUID, EventID: 4104, Version: 1, Level: 5,
			Task: 2, Opcode: 15, Keywords: 0, Channel: "Microsoft-Windows-PowerShell/Operational",
			Computer: "PC-0042.comtech.local", UserSID: "S-1-5-18", ProcessID: 5312, ThreadID: 2980,
			ActivityID: "{7D2A1C3B-9F00-0004-5E3C-2A7D009FDA01}",
			Data: []Field{{"MessageNumber", "1"}, {"MessageTotal", "2"},
				{"ScriptBlockText", "Get-ADUser -Filter * -Properties * |\r\n  Where-Object { $_.Enabled -and $_.Name -like 'a*' } # <&>\r\n"},
				{"ScriptBlockId", "9b5c2b0e-2f6e-4b3c-9a8f-0d8e6c1f2a3b"}, {"Path", ""}},
		},
		{
			Provider: "Microsoft-Windows-PowerShell", ProviderGUID: psGUID, EventID: 4103, Version: 1, Level: 4,
			Task: 106, Opcode: 20, Channel: "Microsoft-Windows-PowerShell/Operational",
			Computer: "PC-0042.comtech.local", UserSID: "S-1-5-18", ProcessID: 5312, ThreadID: 2980,
			ActivityID: "not-a-guid", // written as a string, not a GUID
			Data: []Field{{"ContextInfo", "        Severity = Informational\r\n        Host Name = ConsoleHost\r\n"},
				{"UserData", ""}, {"Payload", "CommandInvocation(Get-SmbShare): \"Get-SmbShare\""}},
		},
		{
			Provider: "PowerShell", EventID: 400, HasQualifiers: true, Level: 4, Task: 4,
			Keywords: 0x80000000000000, Channel: "Windows PowerShell", Computer: "PC-0042.comtech.local",
			Data: []Field{{"", "Available"}, {"", "None"},
				{"", "\tNewEngineState=Available\r\n\tPreviousEngineState=None\r\n\r\n\tHostName=ConsoleHost\r\n"}},
		},
		{
			Provider: "PowerShell", EventID: 800, HasQualifiers: true, Level: 4, Task: 8,
			Keywords: 0x80000000000000, Channel: "Windows PowerShell", Computer: "PC-0042.comtech.local",
			Data: []Field{{"", "Get-WmiObject Win32_Product | Select Name"}, {"", ""},
				{"", "\tDetailSequence=1\r\n\tDetailTotal=1\r\n"}},
		},
		{
			Provider: "Microsoft-Windows-Sysmon", ProviderGUID: sysmGUID, EventID: 1, Version: 5, Level: 4,
			Task: 1, Keywords: 0x8000000000000000, Channel: "Microsoft-Windows-Sysmon/Operational",
			Computer: "PC-0042.comtech.local", UserSID: "S-1-5-18", ProcessID: 3140, ThreadID: 4012,
			Data: []Field{{"RuleName", "-"}, {"UtcTime", "2026-03-28 23:59:58.123"},
				{"ProcessGuid", "{3f1c2a9e-6b1d-65f0-1a02-000000002d00}"}, {"ProcessId", "7312"},
				{"Image", `C:\Windows\System32\net.exe`}, {"CommandLine", `net.exe share`},
				{"User", `NT AUTHORITY\SYSTEM`}, {"Hashes", "SHA256=0123456789ABCDEF"}},
		},
		{
			Provider: "Microsoft-Windows-Sysmon", ProviderGUID: sysmGUID, EventID: 3, Version: 5, Level: 4,
			Task: 3, Keywords: 0x8000000000000000, Channel: "Microsoft-Windows-Sysmon/Operational",
			Computer: "PC-0042.comtech.local", UserSID: "S-1-5-18", ProcessID: 3140, ThreadID: 4016,
			Data: []Field{{"Protocol", "tcp"}, {"Initiated", "true"}, {"SourceIp", "10.0.0.42"},
				{"DestinationIp", "203.0.113.7"}, {"DestinationPort", "443"}, {"DestinationHostname", ""}},
		},
		{
			Provider: "Microsoft-Windows-TerminalServices-LocalSessionManager", ProviderGUID: lsmGUID,
			EventID: 21, Level: 4, Keywords: 0x1000000000000000,
			Channel:  "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
			Computer: "FS01.comtech.local", UserSID: "S-1-5-18", ProcessID: 1100, ThreadID: 2200,
			UserData: &UserData{Element: "EventXML", Namespace: "Event_NS",
				Fields: []Field{{"User", `COMTECH\svc-msp-admin1`}, {"SessionID", "3"}, {"Address", "10.250.0.17"}}},
		},
		{
			Provider: "ScreenConnect Client (a1b2c3)", EventID: 0, HasQualifiers: true, Level: 4,
			Keywords: 0x80000000000000, Channel: "Application", Computer: "PC-0042.comtech.local",
			Data: []Field{{"", "Executed command of length: 37\n\nGet-LocalUser; Get-LocalGroupMember Administrators"}},
		},
		{
			Provider: "Unicode-Test", EventID: 65535, Version: 255, Level: 255, Task: 65535, Opcode: 255,
			Keywords: 0xffffffffffffffff, Channel: "Application", Computer: "PC-ÜÖ-日本", ProcessID: 0xffffffff, ThreadID: 1,
			Data: []Field{{"Emoji", "😀🂡 non-BMP 𝄞"}, {"Umlaut", "Grüße aus Freiburg"}, {"Empty", ""},
				{"Specials", `<&>"'` + "&amp; ]]> <![CDATA[x]]>"}, {"Spaces", "  padded  "}},
		},
		{Provider: "Empty-Event", EventID: 1, Channel: "Application", Computer: "PC-0042.comtech.local"},
	}
	for i, r := range recs {
		r.Time = base.Add(time.Duration(i) * 1700 * time.Millisecond)
	}
	return recs
}

// bigCorpus cycles the corpus n times with varied values so that records
// fill several chunks.
func bigCorpus(n int) []*Record {
	tmpl := corpus()
	out := make([]*Record, 0, n)
	for i := 0; i < n; i++ {
		r := *tmpl[i%len(tmpl)]
		r.Time = base.Add(time.Duration(i) * 997 * time.Millisecond)
		if r.Data != nil {
			r.Data = append([]Field(nil), r.Data...)
			r.Data[0].Value = fmt.Sprintf("%s #%d", r.Data[0].Value, i)
		}
		out = append(out, &r)
	}
	return out
}

func writeTemp(t testing.TB, recs []*Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.evtx")
	if err := WriteFile(path, recs); err != nil {
		t.Fatal(err)
	}
	return path
}

// dataOf returns the values the record carries in EventData or UserData.
func dataOf(r *Record) []Field {
	if r.UserData != nil {
		return r.UserData.Fields
	}
	return r.Data
}

// ---------------------------------------------------------------- golang-evtx

// readGolangEvtx reads every record of path with golang-evtx, keyed by
// EventRecordID.
func readGolangEvtx(t testing.TB, path string) map[int64]*evtx.GoEvtxMap {
	t.Helper()
	ef, err := evtx.OpenDirty(path)
	if err != nil {
		t.Fatalf("golang-evtx: open %s: %v", path, err)
	}
	got := make(map[int64]*evtx.GoEvtxMap)
	for e := range ef.FastEvents() {
		id := e.EventRecordID()
		if _, dup := got[id]; dup {
			t.Errorf("golang-evtx: record id %d twice", id)
		}
		got[id] = e
	}
	return got
}

func gemString(t testing.TB, e *evtx.GoEvtxMap, path string) string {
	t.Helper()
	p := evtx.Path(path)
	s, err := e.GetString(&p)
	if err != nil {
		t.Errorf("golang-evtx: %s: %v", path, err)
	}
	return s
}

// compareGolangEvtx checks every record of recs against golang-evtx's view.
func compareGolangEvtx(t testing.TB, path string, recs []*Record) {
	t.Helper()
	got := readGolangEvtx(t, path)
	if len(got) != len(recs) {
		t.Fatalf("golang-evtx reads %d records, wrote %d", len(got), len(recs))
	}
	for i, r := range recs {
		id := int64(i + 1)
		e, ok := got[id]
		if !ok {
			t.Fatalf("golang-evtx: record %d missing", id)
		}
		if eid := e.EventID(); eid != int64(r.EventID) {
			t.Errorf("record %d: EventID %d, want %d", id, eid, r.EventID)
		}
		if tc := e.TimeCreated(); !tc.Equal(r.Time.Truncate(100 * time.Nanosecond)) {
			t.Errorf("record %d: time %v, want %v", id, tc, r.Time)
		}
		if r.ProviderGUID == "" && r.EventSourceName == "" {
			// golang-evtx reads an element whose only attribute is Name like
			// <Data Name=…>: <Provider Name="X"/> becomes /Event/System/X.
			p := evtx.Path("/Event/System/" + r.Provider)
			if _, err := e.Get(&p); err != nil {
				t.Errorf("record %d: provider %q: %v", id, r.Provider, err)
			}
		} else if s := gemString(t, e, "/Event/System/Provider/Name"); s != r.Provider {
			t.Errorf("record %d: provider %q, want %q", id, s, r.Provider)
		}
		for _, c := range []struct{ path, want string }{
			{"/Event/System/Channel", r.Channel},
			{"/Event/System/Computer", r.Computer},
			{"/Event/System/Version", fmt.Sprint(r.Version)},
			{"/Event/System/Task", fmt.Sprint(r.Task)},
			{"/Event/System/Execution/ProcessID", fmt.Sprint(r.ProcessID)},
		} {
			if s := gemString(t, e, c.path); s != c.want {
				t.Errorf("record %d: %s = %q, want %q", id, c.path, s, c.want)
			}
		}
		if r.UserSID != "" {
			if s := gemString(t, e, "/Event/System/Security/UserID"); s != r.UserSID {
				t.Errorf("record %d: UserID %q, want %q", id, s, r.UserSID)
			}
		}
		prefix := "/Event/EventData/"
		if r.UserData != nil {
			prefix = "/Event/UserData/" + r.UserData.Element + "/"
		}
		unnamed := 0
		for j, f := range dataOf(r) {
			key := f.Name
			if key == "" {
				// golang-evtx names repeated keys by their child index.
				key = "Data"
				if unnamed > 0 {
					key = fmt.Sprintf("Data%d", j)
				}
				unnamed++
			}
			if s := gemString(t, e, prefix+key); s != f.Value {
				t.Errorf("record %d (event %d): %s = %q, want %q", id, r.EventID, key, s, f.Value)
			}
		}
	}
}

func TestGolangEvtxReadsCorpus(t *testing.T) {
	recs := corpus()
	path := writeTemp(t, recs)
	compareGolangEvtx(t, path, recs)
	checkStructure(t, path, len(recs))
}

func TestMultiChunk(t *testing.T) {
	recs := bigCorpus(2500)
	path := writeTemp(t, recs)
	chunks := checkStructure(t, path, len(recs))
	if chunks < 3 {
		t.Fatalf("%d records fit in %d chunks; want a multi-chunk file", len(recs), chunks)
	}
	compareGolangEvtx(t, path, recs)
}

// TestChunkAPI reads through golang-evtx's lower-level chunk API, the one
// spoor's salvage path uses, so chunk headers and tables must parse alone.
func TestChunkAPI(t *testing.T) {
	recs := bigCorpus(600)
	path := writeTemp(t, recs)
	ef, err := evtx.OpenDirty(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i := 0; i < int(ef.Header.ChunkCount); i++ {
		c, err := ef.FetchChunk(fileHeaderSize + int64(i)*chunkSize)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if len(c.TemplateTable) == 0 || len(c.StringTable) == 0 {
			t.Errorf("chunk %d: %d templates, %d strings in the tables", i, len(c.TemplateTable), len(c.StringTable))
		}
		for _, off := range c.EventOffsets {
			ev := c.ParseEvent(int64(off))
			if !ev.IsValid() {
				continue // the offset after the last record
			}
			gem, err := ev.GoEvtxMap(&c)
			if err != nil {
				t.Fatalf("chunk %d offset %d: %v", i, off, err)
			}
			want := recs[gem.EventRecordID()-1]
			if gem.EventID() != int64(want.EventID) {
				t.Errorf("record %d: EventID %d, want %d", gem.EventRecordID(), gem.EventID(), want.EventID)
			}
			n++
		}
	}
	if n != len(recs) {
		t.Fatalf("chunk API reads %d records, wrote %d", n, len(recs))
	}
}

// ---------------------------------------------------------------- structure

// checkStructure verifies the file header, every chunk header, both CRC32s
// of every chunk and the record chain, independently of any parser, and
// returns the chunk count.
func checkStructure(t testing.TB, path string, nrecs int) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < fileHeaderSize || string(b[:8]) != "ElfFile\x00" {
		t.Fatalf("%s: no file header", path)
	}
	if got, want := le.Uint32(b[124:]), crc32.ChecksumIEEE(b[:120]); got != want {
		t.Errorf("file header CRC %08x, want %08x", got, want)
	}
	if le.Uint32(b[32:]) != 128 || le.Uint16(b[36:]) != 1 || le.Uint16(b[38:]) != 3 || le.Uint16(b[40:]) != 4096 {
		t.Errorf("file header size/version/block size wrong: % x", b[32:42])
	}
	nchunks := int(le.Uint16(b[42:]))
	if (len(b)-fileHeaderSize)%chunkSize != 0 || (len(b)-fileHeaderSize)/chunkSize != nchunks {
		t.Fatalf("file of %d bytes, header counts %d chunks", len(b), nchunks)
	}
	if nchunks > 0 && le.Uint64(b[16:]) != uint64(nchunks-1) {
		t.Errorf("last chunk number %d, want %d", le.Uint64(b[16:]), nchunks-1)
	}
	if got := le.Uint64(b[24:]); got != uint64(nrecs+1) {
		t.Errorf("next record id %d, want %d", got, nrecs+1)
	}
	wantID := uint64(1)
	for i := 0; i < nchunks; i++ {
		c := b[fileHeaderSize+i*chunkSize:][:chunkSize]
		if string(c[:8]) != "ElfChnk\x00" {
			t.Fatalf("chunk %d: bad magic", i)
		}
		hcrc := crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:512])
		if got := le.Uint32(c[124:]); got != hcrc {
			t.Errorf("chunk %d: header CRC %08x, want %08x", i, got, hcrc)
		}
		free := int(le.Uint32(c[48:]))
		if free < 512 || free > chunkSize {
			t.Fatalf("chunk %d: free space offset %d", i, free)
		}
		if got := le.Uint32(c[52:]); got != crc32.ChecksumIEEE(c[512:free]) {
			t.Errorf("chunk %d: data CRC %08x wrong", i, got)
		}
		first, last := le.Uint64(c[24:]), le.Uint64(c[32:])
		if first != wantID || le.Uint64(c[8:]) != first || le.Uint64(c[16:]) != last {
			t.Errorf("chunk %d: record numbers %d..%d, ids %d..%d, want first %d", i,
				le.Uint64(c[8:]), le.Uint64(c[16:]), first, last, wantID)
		}
		off, lastOff := 512, 0
		for off < free {
			if string(c[off:off+4]) != "**\x00\x00" {
				t.Fatalf("chunk %d offset %d: bad record magic", i, off)
			}
			size := int(le.Uint32(c[off+4:]))
			if size < 28 || off+size > free || size%8 != 0 || int(le.Uint32(c[off+size-4:])) != size {
				t.Fatalf("chunk %d offset %d: bad record size %d", i, off, size)
			}
			if id := le.Uint64(c[off+8:]); id != wantID {
				t.Fatalf("chunk %d offset %d: record id %d, want %d", i, off, id, wantID)
			}
			wantID++
			lastOff = off
			off += size
		}
		if last != wantID-1 || int(le.Uint32(c[44:])) != lastOff {
			t.Errorf("chunk %d: last id %d / offset %d, want %d / %d", i, last, le.Uint32(c[44:]), wantID-1, lastOff)
		}
		for j := free; j < chunkSize; j++ {
			if c[j] != 0 {
				t.Fatalf("chunk %d: non-zero byte at %d after free space offset %d", i, j, free)
			}
		}
	}
	if wantID-1 != uint64(nrecs) {
		t.Errorf("%d records in chunks, want %d", wantID-1, nrecs)
	}
	return nchunks
}

// TestChunksFilled checks that a chunk is closed only when the next record
// does not fit: the free space left is smaller than the record that opened
// the following chunk.
func TestChunksFilled(t *testing.T) {
	recs := bigCorpus(1200)
	path := writeTemp(t, recs)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	n := int(le.Uint16(b[42:]))
	for i := 0; i+1 < n; i++ {
		c := b[fileHeaderSize+i*chunkSize:][:chunkSize]
		next := b[fileHeaderSize+(i+1)*chunkSize:][:chunkSize]
		free := int(le.Uint32(c[48:]))
		if free > chunkFill {
			t.Errorf("chunk %d: records end at %d, within the last %d bytes", i, free, chunkTailRoom)
		}
		left := chunkFill - free
		nextSize := int(le.Uint32(next[512+4:]))
		if left >= nextSize {
			t.Errorf("chunk %d: %d bytes left but the next record (%d bytes) went to a new chunk", i, left, nextSize)
		}
	}
}

// TestNameHash checks the string-table hash against names Windows wrote.
func TestNameHash(t *testing.T) {
	path := testutil.Shared(t, "samples", "evtx", "evtx-rs", "security.evtx")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("sample absent: %v", err)
	}
	le := binary.LittleEndian
	c := b[fileHeaderSize:][:chunkSize]
	checked := 0
	for bucket := 0; bucket < 64; bucket++ {
		for off := le.Uint32(c[128+4*bucket:]); off != 0 && off < chunkSize-8; off = le.Uint32(c[off:]) {
			n := int(le.Uint16(c[off+6:]))
			u := make([]uint16, n)
			for k := range u {
				u[k] = le.Uint16(c[int(off)+8+2*k:])
			}
			name := string(utf16.Decode(u))
			h := nameHash(name)
			if uint16(h) != le.Uint16(c[off+4:]) || int(h%64) != bucket {
				t.Errorf("%q: hash %d bucket %d, file says %d bucket %d", name, uint16(h), h%64, le.Uint16(c[off+4:]), bucket)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d names checked", checked)
	}
}

// ---------------------------------------------------------------- API

// onlyWriter hides Seek so the Writer takes its in-memory path.
type onlyWriter struct{ io.Writer }

func TestSeekableAndStreamedIdentical(t *testing.T) {
	recs := bigCorpus(700)
	path := writeTemp(t, recs)
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := NewWriter(onlyWriter{&buf})
	for _, r := range recs {
		if _, err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written before Close to a writer that cannot seek", buf.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatal("in-memory output differs from the file output")
	}
	// Same input, same bytes: the generator's byte-identical outputs rely on it.
	again := writeTemp(t, recs)
	b2, _ := os.ReadFile(again)
	if !bytes.Equal(b2, want) {
		t.Fatal("two runs over the same records differ")
	}
}

func TestRecordIDsAndErrors(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(onlyWriter{&buf})
	for i, r := range corpus()[:3] {
		id, err := w.Write(r)
		if err != nil || id != uint64(i+1) {
			t.Fatalf("Write %d = %d, %v", i, id, err)
		}
	}
	huge := &Record{Time: base, Provider: "P", Channel: "Application", Computer: "C",
		Data: []Field{{"A", strings.Repeat("x", 20000)}, {"B", strings.Repeat("y", 20000)}}}
	if _, err := w.Write(huge); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("80 KB record: err %v, want ErrRecordTooLarge", err)
	}
	// The failed record must leave no trace: the next one gets id 4.
	if id, err := w.Write(corpus()[3]); err != nil || id != 4 {
		t.Fatalf("after a rejected record: id %d, %v; want 4", id, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(corpus()[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	path := filepath.Join(t.TempDir(), "x.evtx")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	checkStructure(t, path, 4)
	compareGolangEvtx(t, path, append(corpus()[:3:3], corpus()[3]))
}

func TestEmptyFile(t *testing.T) {
	path := writeTemp(t, nil)
	if checkStructure(t, path, 0) != 0 {
		t.Fatal("empty file has chunks")
	}
}

func TestRecordNearChunkSize(t *testing.T) {
	// A record that only fits in an empty chunk, written after others:
	// the writer must start a new chunk and redefine the template there.
	recs := corpus()[:2]
	big := *recs[0]
	big.Data = append([]Field(nil), big.Data...)
	big.Data[0].Value = strings.Repeat("é", 30000)
	recs = append(recs, &big, recs[1])
	for i, r := range recs {
		r.Time = base.Add(time.Duration(i) * time.Second)
	}
	path := writeTemp(t, recs)
	checkStructure(t, path, len(recs))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	second := b[fileHeaderSize+chunkSize:]
	if id := binary.LittleEndian.Uint64(second[512+8:]); id != 3 {
		t.Fatalf("second chunk starts with record %d, want the big record 3", id)
	}
	compareGolangEvtx(t, path, recs)
}

func TestParseSIDAndGUID(t *testing.T) {
	for _, c := range []struct {
		in   string
		size int
		ok   bool
	}{
		{"S-1-5-18", 12, true},
		{"S-1-5-21-3623811015-3361044348-30300820-1104", 28, true},
		{"S-1-0-0", 12, true},
		{"S-1-5", 8, true},
		{"S-1-5-", 0, false},
		{"S-1-5-4294967296", 0, false},
		{"S-256-5-1", 0, false},
		{"X-1-5-18", 0, false},
		{"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", 0, false},
	} {
		size, ok := sidSize(c.in)
		if ok != c.ok || (ok && size != c.size) {
			t.Errorf("sidSize(%q) = %d, %v; want %d, %v", c.in, size, ok, c.size, c.ok)
		}
	}
	g, ok := parseGUID("{54849625-5478-4994-A5BA-3E3B0328C30D}")
	want := [16]byte{0x25, 0x96, 0x84, 0x54, 0x78, 0x54, 0x94, 0x49, 0xa5, 0xba, 0x3e, 0x3b, 0x03, 0x28, 0xc3, 0x0d}
	if !ok || g != want {
		t.Errorf("parseGUID = % x, %v", g, ok)
	}
	for _, bad := range []string{"", "{54849625-5478-4994-A5BA-3E3B0328C30}", "54849625x5478-4994-A5BA-3E3B0328C30D", "{54849625-5478-4994-A5BA-3E3B0328C30G}"} {
		if _, ok := parseGUID(bad); ok {
			t.Errorf("parseGUID(%q) accepted", bad)
		}
	}
}

// ---------------------------------------------------------------- property

var (
	alphabet = []string{"a", "Z", "0", " ", "-", "\\", "<", ">", "&", `"`, "'", "\t", "\r\n", "\n", "ü", "ß", "日", "€", "😀", "𝄞"}
	names    = []string{"SubjectUserSid", "TargetUserName", "LogonType", "IpAddress", "CommandLine", "ScriptBlockText", "Image", "Hashes", "x", "Data_1"}
)

func randString(rng *rand.Rand, max int) string {
	var sb strings.Builder
	n := rng.IntN(max + 1)
	for i := 0; i < n; i++ {
		sb.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	switch s := sb.String(); s {
	case "&", "<", ">", "\n":
		// Debian's libevtx 20181227 fails on a value that is exactly one
		// of these (see TestLibevtxSingleCharQuirk); Windows writes the
		// same bytes, so this is kept out of the comparison.
		return s + "a"
	default:
		return s
	}
}

// randRecord draws a record with a random shape and random values.
func randRecord(rng *rand.Rand, i int) *Record {
	r := &Record{
		Time:     base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))),
		Provider: []string{"Microsoft-Windows-Security-Auditing", "PowerShell", "Service Control Manager"}[rng.IntN(3)],
		EventID:  uint16(rng.Uint32()), Version: uint8(rng.Uint32()), Level: uint8(rng.IntN(6)),
		Task: uint16(rng.Uint32()), Opcode: uint8(rng.Uint32()), Keywords: rng.Uint64(),
		Channel:  []string{"Security", "System", "Microsoft-Windows-PowerShell/Operational"}[rng.IntN(3)],
		Computer: fmt.Sprintf("HOST-%03d.comtech.local", rng.IntN(100)), ProcessID: rng.Uint32(), ThreadID: rng.Uint32(),
	}
	if rng.IntN(2) == 0 {
		r.ProviderGUID = secGUID
	}
	if rng.IntN(4) == 0 {
		r.EventSourceName = r.Provider
	}
	if rng.IntN(3) == 0 {
		r.HasQualifiers, r.Qualifiers = true, uint16(rng.Uint32())
	}
	if rng.IntN(3) == 0 {
		r.UserSID = fmt.Sprintf("S-1-5-21-%d-%d-%d-%d", rng.Uint32(), rng.Uint32(), rng.Uint32(), rng.IntN(5000))
	}
	if rng.IntN(3) == 0 {
		r.ActivityID = "{7D2A1C3B-9F00-0004-5E3C-2A7D009FDA01}"
	}
	fields := make([]Field, rng.IntN(8))
	perm := rng.Perm(len(names))
	unnamed := rng.IntN(4) == 0
	for j := range fields {
		if !unnamed {
			fields[j].Name = names[perm[j]]
		}
		fields[j].Value = randString(rng, []int{0, 3, 40, 400}[rng.IntN(4)])
	}
	if rng.IntN(6) == 0 {
		for j := range fields {
			if fields[j].Name == "" {
				fields[j].Name = names[perm[j]]
			}
		}
		r.UserData = &UserData{Element: "EventXML", Fields: fields}
		if rng.IntN(2) == 0 {
			r.UserData.Namespace = "Event_NS"
		}
	} else {
		r.Data = fields
	}
	return r
}

func TestRandomRoundTrip(t *testing.T) {
	rounds, per := 12, 400
	if testing.Short() {
		rounds = 3
	}
	for round := 0; round < rounds; round++ {
		rng := rand.New(rand.NewPCG(uint64(round), 42))
		recs := make([]*Record, per)
		for i := range recs {
			recs[i] = randRecord(rng, i)
		}
		path := writeTemp(t, recs)
		checkStructure(t, path, len(recs))
		compareGolangEvtx(t, path, recs)
		if t.Failed() {
			t.Fatalf("round %d failed", round)
		}
	}
}

// ---------------------------------------------------------------- benchmark

// discardSeeker counts bytes and accepts seeks, like a file on a fast disk.
type discardSeeker struct{ n, off int64 }

func (d *discardSeeker) Write(p []byte) (int, error) {
	d.off += int64(len(p))
	d.n = max(d.n, d.off)
	return len(p), nil
}

func (d *discardSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		d.off = off
	case io.SeekEnd:
		d.off = d.n + off
	}
	return d.off, nil
}

// BenchmarkWrite measures EVTX output throughput (bytes of file per second)
// for the corpus mix, with values that change per record.
func BenchmarkWrite(b *testing.B) {
	recs := bigCorpus(1000)
	// Size of the output for one pass, to report file bytes per record.
	var d discardSeeker
	w := NewWriter(&d)
	for _, r := range recs {
		if _, err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(d.n / int64(len(recs)))
	b.ReportAllocs()
	b.ResetTimer()
	d = discardSeeker{}
	w = NewWriter(&d)
	for i := 0; i < b.N; i++ {
		if w.Records() >= 1_000_000 {
			w.Close()
			d = discardSeeker{}
			w = NewWriter(&d)
		}
		if _, err := w.Write(recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
}
