package event

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"
)

func TestFieldsRoundTripKeepsOrder(t *testing.T) {
	d := ordereddict.NewDict().Set("Z", "last<>&\"\\\n\t\x01").Set("A", "ünï€😀").Set("M", "").
		Set("Nested", ordereddict.NewDict().Set("b", "1").Set("a", "2"))
	b, err := MarshalFields(d)
	if err != nil {
		t.Fatal(err)
	}
	// The output is valid JSON that encoding/json agrees with.
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if m["Z"] != "last<>&\"\\\n\t\x01" || m["A"] != "ünï€😀" {
		t.Fatalf("values: %v", m)
	}
	back, err := UnmarshalFields(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Keys(), []string{"Z", "A", "M", "Nested"}) {
		t.Fatalf("order: %v", back.Keys())
	}
	if v, _ := back.GetString("Z"); v != "last<>&\"\\\n\t\x01" {
		t.Fatalf("Z = %q", v)
	}
}

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"plain", "<script>", "a\u2028b", "bad\xffutf8", "\x00\x1f", `q"b\`} {
		got, _ := MarshalFields(ordereddict.NewDict().Set("k", s))
		want, _ := json.Marshal(map[string]string{"k": s})
		if string(got) != string(want) {
			t.Errorf("%q: got %s want %s", s, got, want)
		}
	}
}

func FuzzFieldsRoundTrip(f *testing.F) {
	f.Add("k", "v", "k2", "v2")
	f.Add("", "\x00", "\"", "\\u0000")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		d := ordereddict.NewDict().Set(k1, v1).Set(k2, v2)
		b, err := MarshalFields(d)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %q", b)
		}
		back, err := UnmarshalFields(b)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(map[string]string{k1: v1})
		var w map[string]string
		json.Unmarshal(want, &w)
		got, _ := back.GetString(k1)
		if k1 != k2 && got != w[k1] {
			t.Fatalf("%q: got %q want %q", k1, got, w[k1])
		}
	})
}

func FuzzUnmarshalFields(f *testing.F) {
	f.Add([]byte(`{"a":"b"}`))
	f.Add([]byte(`{"a":{"b":[1,2,null]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		UnmarshalFields(b) // must not panic
	})
}

func BenchmarkMarshalFields(b *testing.B) {
	d := ordereddict.NewDict()
	for _, k := range []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType", "LogonProcessName", "AuthenticationPackageName", "WorkstationName", "LogonGuid", "IpAddress", "IpPort"} {
		d.Set(k, "S-1-5-21-1004336348-1177238915-682003330-512")
	}
	b.ReportAllocs()
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf, _ = AppendFields(buf[:0], d)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkUnmarshalFields(b *testing.B) {
	d := ordereddict.NewDict()
	for _, k := range []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId", "TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType", "LogonProcessName", "AuthenticationPackageName", "WorkstationName", "LogonGuid", "IpAddress", "IpPort"} {
		d.Set(k, "S-1-5-21-1004336348-1177238915-682003330-512")
	}
	js, _ := MarshalFields(d)
	b.ReportAllocs()
	b.SetBytes(int64(len(js)))
	for i := 0; i < b.N; i++ {
		if _, err := UnmarshalFields(js); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSpecial holds special's eight-bytes-at-a-time search to a byte
// loop: every start in strings with quotes, backslashes and control
// bytes at every position of a word, and bytes above 0x7f (whose borrows
// must not hide an earlier match).
func TestSpecial(t *testing.T) {
	ref := func(s string, j int) int {
		for ; j < len(s); j++ {
			if c := s[j]; c == '"' || c == '\\' || c < 0x20 {
				return j
			}
		}
		return j
	}
	ss := []string{"", "a", "abcdefgh", "abcdefghi", "\x7f\x80\xff\x20 ~abcdefghijk", strings.Repeat("x", 100) + "\t"}
	for _, c := range []string{"\"", "\\", "\x00", "\x1f", "\n"} {
		for at := 0; at < 19; at++ {
			ss = append(ss, strings.Repeat("a", at)+c+"bcdefghijklmnop", strings.Repeat("\xff", at)+c+"\x80\x21\x5b\x5d\x23", strings.Repeat("\x01", at)+c)
		}
	}
	agreeAtEveryOffset(t, "special", special, ref, ss)
}

// agreeAtEveryOffset fails when got and want (index of the first byte of
// a kind at or after j) differ at any offset of any of ss.
func agreeAtEveryOffset(t *testing.T, name string, got, want func(string, int) int, ss []string) {
	t.Helper()
	for _, s := range ss {
		for j := 0; j <= len(s); j++ {
			if g, w := got(s, j), want(s, j); g != w {
				t.Fatalf("%s(%q, %d) = %d, want %d", name, s, j, g, w)
			}
		}
	}
}

// TestPlainRun holds plainRun to a byte loop over jsonPlain at every
// offset: each byte a JSON string escapes (or whose rune is checked) at
// every position of a word, after plain bytes, bytes above 0x7f and
// bytes just beside the ones it looks for.
func TestPlainRun(t *testing.T) {
	ref := func(s string, j int) int {
		for ; j < len(s); j++ {
			if c := s[j]; c >= 0x80 || !jsonPlain[c] {
				return j
			}
		}
		return j
	}
	ss := []string{"", "a", "abcdefgh", "abcdefghi", "\x21\x3b\x3d\x3f\x25\x27 ~abcdefghijk", strings.Repeat("x", 100) + "\t"}
	for _, c := range []string{"\"", "\\", "<", ">", "&", "\x00", "\x1f", "\n", "\x80", "\xff", "\u2028"} {
		for at := 0; at < 19; at++ {
			ss = append(ss, strings.Repeat("a", at)+c+"bcdefghijklmnop", strings.Repeat("\x21", at)+c+"\x3d\x3f\x25\x27\x5b\x5d", strings.Repeat("\x7f", at)+c)
		}
	}
	agreeAtEveryOffset(t, "plainRun", plainRun, ref, ss)
}

// FuzzParseFlat checks the fast path against encoding/json (what it
// accepts must be valid JSON with the same values) and against
// ordereddict's own decoder, which it stands in for (the same dict).
func FuzzParseFlat(f *testing.F) {
	f.Add([]byte(`{"a":"b","c":"d\n\u00e9\"x"}`))
	f.Add([]byte("{\"a\":\"b\x01\"}"))
	f.Add([]byte(`{ "a" : "12345678901234567890" }`))
	f.Add([]byte(`{"a":"C:\\x\ud83d\ude00\ud800\u0041\udc00","b":"\/\b"}`))
	f.Add([]byte(`{"Data":["10.00.","17134","","x\ty"],"Binary":"","E":[ ],"F":[ "a" , "b" ]}`))
	f.Add([]byte(`{"Data":["a",1],"b":"c"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		if !utf8.ValidString(s) {
			return
		}
		d := ordereddict.NewDict()
		if !parseFlat(s, d) {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", b, err)
		}
		for _, it := range d.Items() {
			if !reflect.DeepEqual(it.Value, m[it.Key]) && d.Len() == len(m) {
				t.Fatalf("%q: key %q fast %#v, encoding/json %#v", b, it.Key, it.Value, m[it.Key])
			}
		}
		slow := ordereddict.NewDict()
		if err := slow.UnmarshalJSON(b); err != nil {
			t.Fatalf("fast path accepted %q, ordereddict: %v", b, err)
		}
		if !reflect.DeepEqual(d.Items(), slow.Items()) {
			t.Fatalf("%q: fast path %#v, ordereddict %#v", b, d.Items(), slow.Items())
		}
	})
}

func TestUnmarshalEscapes(t *testing.T) {
	for _, js := range []string{
		`{"p":"C:\\Windows\\System32\\cmd.exe","u":"CORP\\svc-rmm"}`,
		`{"a":"\"\\\/\b\f\n\r\t","b":"\u00e9\u20ac\ud83d\ude00","c":"\ud800x","d":"\udc00\ud800","e":"\ud83d\u0041"}`,
		`{"a":"x\u0000y","b":"\u2028<>&"}`,
	} {
		d, err := UnmarshalFields([]byte(js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		var want map[string]string
		if err := json.Unmarshal([]byte(js), &want); err != nil {
			t.Fatal(err)
		}
		if d.Len() != len(want) {
			t.Fatalf("%s: %d keys, want %d", js, d.Len(), len(want))
		}
		for k, w := range want {
			if got, _ := d.GetString(k); got != w {
				t.Errorf("%s: %q = %q, want %q", js, k, got, w)
			}
		}
	}
	for _, bad := range []string{`{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`, "{\"a\":\"\\\t\"}", `{"a":"\`} {
		if parseFlat(bad, ordereddict.NewDict()) {
			t.Errorf("fast path accepted %s", bad)
		}
	}
}

// BenchmarkAppendJSONString escapes the kind of value raw fields hold
// most: plain ASCII, short and long (a command line).
func BenchmarkAppendJSONString(b *testing.B) {
	vals := []string{"S-1-5-21-3623811015-3361044348-30300820-1013", "0x3e7", "-", "%%1833",
		`C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe -NoProfile -ExecutionPolicy Bypass -Command "Get-Process | Where-Object {$_.CPU -gt 100}"`}
	n := 0
	for _, v := range vals {
		n += len(v)
	}
	b.SetBytes(int64(n))
	var buf []byte
	for b.Loop() {
		buf = buf[:0]
		for _, v := range vals {
			buf = appendJSONString(buf, v)
		}
	}
}

// FuzzParseFlatFields holds the dict-free reading of raw fields to the
// dict: where it accepts the text, its pairs are the dict's items.
func FuzzParseFlatFields(f *testing.F) {
	f.Add(`{"a":"b","c":"d\n\u00e9\"x"}`)
	f.Add(`{"a":"b","a":"c"}`)
	f.Add(`{"":"a","x":"b","":"c"}`)
	f.Add(`{"ab":"1","cd":"2","axb":"3","ab":"4"}`)
	f.Add(`{"a":1}`)
	f.Add(`{}`)
	f.Add(`{"a":{"b":"c"}}`)
	f.Fuzz(func(t *testing.T, s string) {
		kv, ok := ParseFlatFields(s, nil)
		if !ok {
			return
		}
		d, err := UnmarshalFieldsString(s)
		if err != nil {
			t.Fatalf("%q: flat accepted, dict: %v", s, err)
		}
		items := d.Items()
		if len(items) != len(kv) {
			t.Fatalf("%q: %d flat pairs, %d dict items", s, len(kv), len(items))
		}
		for i, it := range items {
			if v, _ := it.Value.(string); it.Key != kv[i].Key || v != kv[i].Value {
				t.Fatalf("%q: item %d dict %q=%q, flat %q=%q", s, i, it.Key, v, kv[i].Key, kv[i].Value)
			}
		}
	})
}

// FuzzAppendRefsJSON: references are written byte for byte as
// encoding/json writes them, errors included.
func FuzzAppendRefsJSON(f *testing.F) {
	f.Add(int64(1700000000123456789), "evtx", `C:\logs\Security.evtx`, int64(4096), int32(1), int64(77), int32(4624), "DC01<&>", 2)
	f.Add(int64(0), "", "", int64(0), int32(0), int64(0), int32(0), "", 1)
	f.Add(int64(-62135596800000000), "rmm", "\xff\u2028", int64(-1), int32(-3), int64(-9), int32(-1), "\x00", 3)
	f.Fuzz(func(t *testing.T, ns int64, src, evidence string, off int64, seq int32, rec int64, id int32, host string, n int) {
		n &= 0xff
		r := Ref{Time: time.Unix(0, ns).UTC(), Source: src, Evidence: evidence, Offset: off, Seq: seq, RecordID: rec, EventID: id, Host: host}
		if n%5 == 4 {
			r.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // beyond what JSON times can say
		}
		switch u := uint64(ns); n % 7 {
		case 5: // any year JSON can say, at any time of day
			r.Time = time.Date(int(u%10000), time.Month(1+u%12), int(1+u%28), int(u%24), int(u%60), int(u/7%60), int(u%1000000000), time.UTC)
		case 6: // another zone, and the zero offset under another name
			r.Time = r.Time.In(time.FixedZone("X", int(u%50000)-25000))
			if u%3 == 0 {
				r.Time = r.Time.In(time.FixedZone("GMT", 0))
			}
		}
		refs := make([]Ref, n%4)
		for i := range refs {
			refs[i] = r
			refs[i].Offset += int64(i)
		}
		if n%4 == 0 && n%8 == 0 {
			refs = nil
		}
		want, werr := json.Marshal(refs)
		if refs == nil {
			want = []byte("[]") // the store writes no references as []
		}
		got, gerr := AppendRefsJSON(nil, refs)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("error %v, encoding/json's %v", gerr, werr)
		}
		if werr == nil && string(got) != string(want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
}

// BenchmarkParseFlatFields parses a Sysmon process creation's fields as
// the store keeps them: short keys and numbers, escaped paths, a quoted
// command line.
func BenchmarkParseFlatFields(b *testing.B) {
	d := ordereddict.NewDict().Set("RuleName", "-").Set("UtcTime", "2024-03-04 10:00:00.123").
		Set("ProcessGuid", "{0d5f2c3e-1a2b-65e5-0b00-000000000f00}").Set("ProcessId", "4242").
		Set("Image", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`).Set("FileVersion", "10.0.19041.1").
		Set("Description", "Windows PowerShell").Set("Product", "Microsoft® Windows® Operating System").
		Set("Company", "Microsoft Corporation").Set("OriginalFileName", "PowerShell.EXE").
		Set("CommandLine", `"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -Command "Get-ADGroupMember 'Domain Admins'"`).
		Set("CurrentDirectory", `C:\Users\admin\`).Set("User", `CORP\admin`).Set("LogonGuid", "{0d5f2c3e-1a2b-65e5-0000-0020e7030000}").
		Set("LogonId", "0x3e7").Set("TerminalSessionId", "0").Set("IntegrityLevel", "High").
		Set("Hashes", "SHA256=9F914D42706FE215501044ACD85A32D58AAEF1419D404FDDFA5D3B48F66CCD9F").
		Set("ParentProcessGuid", "{0d5f2c3e-1a2b-65e5-0a00-000000000f00}").Set("ParentProcessId", "1000").
		Set("ParentImage", `C:\Windows\explorer.exe`).Set("ParentCommandLine", `C:\Windows\Explorer.EXE`).Set("ParentUser", `CORP\admin`)
	benchParseFlat(b, d)
}

// benchParseFlat parses d's stored form over and over.
func benchParseFlat(b *testing.B, d *ordereddict.Dict) {
	js, _ := MarshalFields(d)
	s := string(js)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	var kvs []KV
	for b.Loop() {
		var ok bool
		if kvs, ok = ParseFlatFields(s, kvs[:0]); !ok || len(kvs) != d.Len() {
			b.Fatal("not flat")
		}
	}
}

// BenchmarkParseFlatFieldsScript parses a PowerShell script block
// record's fields: a few kilobytes of script in one value.
func BenchmarkParseFlatFieldsScript(b *testing.B) {
	script := strings.Repeat("$users = Get-ADUser -Filter * -Properties MemberOf | Where-Object { $_.Enabled -eq $true }; ", 40)
	d := ordereddict.NewDict().Set("MessageNumber", "1").Set("MessageTotal", "1").Set("ScriptBlockText", script).
		Set("ScriptBlockId", "{0d5f2c3e-1a2b-65e5-0b00-000000000f00}").Set("Path", `C:\Users\admin\recon.ps1`)
	benchParseFlat(b, d)
}
