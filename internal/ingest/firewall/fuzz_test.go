package firewall

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// inlineSamples are seeds and benchmark lines for formats whose real
// samples could not be copied into testdata (see testdata/firewall/README.md).
var inlineSamples = map[string]string{
	"pfirewall": "#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid\n\n" +
		"2023-11-26 22:27:57 DROP TCP 192.168.10.106 192.229.221.95 65457 80 0 - 0 0 0 - - - SEND 1360\n" +
		"2019-11-06 12:35:19 DROP UDP fe80::3680:dff:fe01:9e88 ff02::fb 5353 5353 89 - - - - - - - RECEIVE 4\n" +
		"2005-11-20 11:43:41 DROP TCP 192.168.0.7 192.168.0.6 1172 3389 48 S 1640769051 0 65535 - - - RECEIVE 4\n" +
		"2005-11-20 11:48:44 OPEN TCP 192.168.0.6 207.46.248.248 4313 80 - - - - - - - - - 4\n",
}

// seedText returns sample text for a format: the copied testdata inputs,
// else the inline samples.
func seedText(t testing.TB, format string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "testdata", "firewall", format, "*", "input.log"))
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return inlineSamples[format]
	}
	return b.String()
}

// fuzzParser checks that p never panics, never errors on in-memory
// input, and keeps its invariants, whatever the bytes.
func fuzzParser(f *testing.F, p input.Parser) {
	text := seedText(f, p.Name())
	f.Add([]byte(text))
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines) && i < 40; i++ {
		f.Add([]byte(lines[i]))
	}
	f.Add([]byte{})
	f.Add([]byte("\xff\xfe#\x00F\x00"))
	cfg, err := caseconf.Parse("fuzz.yaml", []byte("source_timezones:\n  firewall: Europe/Berlin\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := inputFromBytes(t, "fuzz.log", data, cfg)
		if s := p.Detect(in); s < 0 || s > 100 {
			t.Fatalf("Detect = %d", s)
		}
		var n int64
		st := &input.Stats{}
		err := p.Parse(context.Background(), in, func(ev *event.Event) error {
			n++
			if ev.Source != event.SourceFirewall || ev.Format != p.Name() || ev.Offset < 1 || ev.Fields == nil {
				t.Fatalf("bad event %+v", ev)
			}
			if len(ev.Message) > maxMessage+len("…") {
				t.Fatalf("message of %d bytes", len(ev.Message))
			}
			if !ev.Time.IsZero() && ev.Time.Location() != time.UTC {
				t.Fatalf("time not UTC: %v", ev.Time)
			}
			if _, err := event.MarshalFields(ev.Fields); err != nil {
				t.Fatalf("fields do not marshal: %v", err)
			}
			return nil
		}, st)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if st.Records != n {
			t.Fatalf("Records %d, emitted %d", st.Records, n)
		}
		if nl := int64(bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1); /* a lone CR ends a line too */ st.Skipped > nl {
			t.Fatalf("%d skipped of %d lines", st.Skipped, nl)
		}
	})
}

func FuzzPFirewall(f *testing.F) { fuzzParser(f, PFirewall{}) }
func FuzzFortiGate(f *testing.F) { fuzzParser(f, FortiGate{}) }
func FuzzFilterlog(f *testing.F) { fuzzParser(f, Filterlog{}) }
func FuzzASA(f *testing.F)       { fuzzParser(f, ASA{}) }
func FuzzIPTables(f *testing.F)  { fuzzParser(f, IPTables{}) }
func FuzzPaloAlto(f *testing.F)  { fuzzParser(f, PaloAlto{}) }
func FuzzSophos(f *testing.F)    { fuzzParser(f, Sophos{}) }
func FuzzSophosAV(f *testing.F)  { fuzzParser(f, SophosAV{}) }
func FuzzZeek(f *testing.F)      { fuzzParser(f, Zeek{}) }
func FuzzZeekJSON(f *testing.F)  { fuzzParser(f, ZeekJSON{}) }

// benchParser parses a synthetic file of about 8 MiB built by repeating
// the format's sample lines (headers once, for the header-driven formats).
func benchParser(b *testing.B, p input.Parser) {
	text := seedText(b, p.Name())
	var head, body []string
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			if len(body) == 0 || p.Name() != "zeek" {
				head = append(head, l)
			}
			continue
		}
		if l != "" {
			body = append(body, l)
		}
	}
	var buf bytes.Buffer
	if p.Name() == "zeek" {
		// one header block, then the rows of the first log (same columns)
		head, body = zeekOneLog(text)
	}
	for _, l := range head {
		buf.WriteString(l + "\n")
	}
	lines := 0
	for buf.Len() < 8<<20 {
		for _, l := range body {
			buf.WriteString(l + "\n")
			lines++
		}
	}
	data := buf.Bytes()
	cfg := caseconf.Default()
	in := inputFromBytes(b, "bench.log", data, cfg)
	if p.Detect(in) == 0 {
		b.Fatalf("%s does not detect its own benchmark input", p.Name())
	}
	ingesttest.Bench(b, p, in, lines)
}

// zeekOneLog returns the header and rows of the conn.log sample (the
// seed text joins several logs with different columns).
func zeekOneLog(text string) (head, body []string) {
	started := false
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "#path\tconn") && !started {
			started = true
		}
		if !started {
			continue
		}
		if strings.HasPrefix(l, "#close") || (strings.HasPrefix(l, "#") && len(body) > 0) {
			break
		}
		if strings.HasPrefix(l, "#") {
			head = append(head, l)
		} else if l != "" && !strings.HasPrefix(l, "XXXX") {
			body = append(body, l)
		}
	}
	if len(body) == 0 { // btest rows only: canonicalised timestamps, still parseable rows
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "XXXX") {
				body = append(body, l)
			}
		}
	}
	return head, body
}

func BenchmarkPFirewall(b *testing.B) { benchParser(b, PFirewall{}) }
func BenchmarkFortiGate(b *testing.B) { benchParser(b, FortiGate{}) }
func BenchmarkFilterlog(b *testing.B) { benchParser(b, Filterlog{}) }
func BenchmarkASA(b *testing.B)       { benchParser(b, ASA{}) }
func BenchmarkIPTables(b *testing.B)  { benchParser(b, IPTables{}) }
func BenchmarkPaloAlto(b *testing.B)  { benchParser(b, PaloAlto{}) }
func BenchmarkSophos(b *testing.B)    { benchParser(b, Sophos{}) }
func BenchmarkZeek(b *testing.B)      { benchParser(b, Zeek{}) }
func BenchmarkZeekJSON(b *testing.B)  { benchParser(b, ZeekJSON{}) }
