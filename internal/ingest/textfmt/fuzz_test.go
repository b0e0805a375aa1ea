package textfmt

import (
	"bytes"
	"context"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// FuzzLoad: any definition text loads or fails with an error, never a
// panic; a loaded format parses a line without panicking.
func FuzzLoad(f *testing.F) {
	ents, _ := builtin.ReadDir("formats")
	for _, e := range ents {
		b, _ := builtin.ReadFile("formats/" + e.Name())
		f.Add(b, []byte("id=fw sn=1 time=\"2007-01-03 14:48:06\" src=1.2.3.4:5:WAN\n"))
	}
	f.Add([]byte("name: x\nsource: rmm\nkind: regex\ndetect: {regex: a}\npatterns: ['(?P<t>a)']\ntime: [{fields: [t], layouts: [epoch]}]\n"), []byte("a\n"))
	f.Fuzz(func(t *testing.T, def, data []byte) {
		fm, err := Load("fuzz.yaml", def)
		if err != nil {
			return
		}
		in := ingesttest.Input(data, "fuzz.log", nil)
		fm.Detect(in)
		st := &input.Stats{}
		fm.Parse(context.Background(), in, func(*event.Event) error { return nil }, st)
	})
}

// FuzzBuiltinParse runs every shipped definition over arbitrary input:
// no panic, counters consistent, columns filled as promised.
func FuzzBuiltinParse(f *testing.F) {
	seeds := []string{
		`{"time":"2026-11-14T23:12:05+01:00","tool":"screenconnect","event":"command","session_id":"1","operator":"o","source_ip":"1.2.3.4","host":"h","command":"c"}`,
		"time,src_ip,dst_ip,action\n2026-01-01 00:00:00,1.2.3.4:5,::1,accept\n",
		"#Software: Microsoft Internet Security and Acceleration Server 2004\n#Fields: date\ttime\tsource\n2006-10-27\t00:00:00\t1.2.3.4:5\n",
		"Mar 30 15:55:20 enigma pf: Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0: 205.174.165.231.50425 > 192.168.2.10.22: . ack\n",
		"11.4.0.5|2023-02-01T09:49:50.448-05|INFO|CONNECTION NEW\n|{\n}\n",
		"Sun Nov 19 12:04:05 2006\nvncClient.cpp : client connected : 127.0.0.1 (id 1)\n",
		"1 2019-05-15T16:25:50Z HOSTNAME CheckPoint 19710 - [action:\"Drop\"; src:\"1.2.3.4\"; proto:\"17\"]\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fms, err := BuiltinFormats()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := ingesttest.Input(data, "fuzz.log", nil)
		lines := int64(bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1) /* a lone CR ends a line too */
		for _, fm := range fms {
			fm.Detect(in)
			var n int64
			st := &input.Stats{}
			err := fm.Parse(context.Background(), in, func(ev *event.Event) error {
				n++
				if ev.Format != fm.Name() || ev.Offset < 1 || len(ev.Message) > maxMessage || ev.Time.Location().String() != "UTC" {
					t.Fatalf("%s: bad event %+v", fm.Name(), ev)
				}
				return nil
			}, st)
			if err != nil {
				continue
			}
			if st.Records != n || st.Records+st.Skipped > lines {
				t.Fatalf("%s: records %d emitted %d skipped %d lines %d", fm.Name(), st.Records, n, st.Skipped, lines)
			}
		}
	})
}

func FuzzSplitKV(f *testing.F) {
	f.Add(`a=1 b="x \" y" c=`, "=", "")
	f.Add(`action:"Drop"; x:"`, ":", ";")
	f.Fuzz(func(t *testing.T, s, sep, delim string) {
		if sep == "" {
			sep = "="
		}
		splitKV(s, sep, delim, func(k, v string) {
			if k == "" {
				t.Fatalf("empty key from %q", s)
			}
		})
	})
}

func benchFormat(b *testing.B, name string, data []byte, lines int) {
	fms, err := BuiltinFormats()
	if err != nil {
		b.Fatal(err)
	}
	var fm *Format
	for _, x := range fms {
		if x.Name() == name {
			fm = x
		}
	}
	ingesttest.Bench(b, fm, ingesttest.Input(data, "bench", nil), lines)
}

func repeat(b *testing.B, rel string) ([]byte, int) {
	return repeatBytes(ingesttest.SampleBytes(b, rel))
}

func repeatBytes(data []byte) ([]byte, int) {
	return ingesttest.Repeat(data, 4<<20)
}

func BenchmarkSonicWall(b *testing.B) {
	d, n := repeat(b, "firewall/other_vendors/ossec-docs_firewalls_sonicwall.log")
	benchFormat(b, "sonicwall", d, n)
}

func BenchmarkISAServer(b *testing.B) {
	d, n := repeat(b, "firewall/other_vendors/ossec-docs_firewalls_isaserver.log")
	benchFormat(b, "isa-server", d, n)
}

func BenchmarkPF(b *testing.B) {
	d, n := repeat(b, "firewall/pf_openbsd/ossec-docs_firewalls_pf.log")
	benchFormat(b, "pf-openbsd", d, n)
}

func BenchmarkRMMAuditJSONL(b *testing.B) {
	d, n := repeatBytes([]byte(`{"time":"2026-11-14T23:12:05+01:00","tool":"screenconnect","event":"command","session_id":"s-1","operator":"msp-tech3","source_ip":"203.0.113.7","host":"SRV-DC01","command":"powershell -nop -c Get-ADUser -Filter *"}` + "\n"))
	benchFormat(b, "rmm-audit-jsonl", d, n)
}

func BenchmarkRMMAuditCSV(b *testing.B) {
	d, n := repeatBytes([]byte("2026-11-14 23:12:05,screenconnect,command,s-1,msp-tech3,203.0.113.7,SRV-DC01,\"powershell -nop -c Get-ADUser -Filter *\"\n"))
	d = append([]byte("time,tool,event,session_id,operator,source_ip,host,command\n"), d...)
	benchFormat(b, "rmm-audit-csv", d, n)
}
