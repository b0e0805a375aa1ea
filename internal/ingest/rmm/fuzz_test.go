package rmm

import (
	"bytes"
	"context"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// fuzzParser checks that p never panics and keeps its counters honest on
// any input.
func fuzzParser(f *testing.F, p input.Parser, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := ingesttest.Input(data, "fuzz.log", nil)
		p.Detect(in)
		var n int64
		st := &input.Stats{}
		err := p.Parse(context.Background(), in, func(ev *event.Event) error {
			n++
			if ev.Source != event.SourceRMM || ev.Format != p.Name() || ev.Offset < 1 || ev.Evidence != "fuzz.log" {
				t.Fatalf("bad event columns: %+v", ev)
			}
			if len(ev.Message) > maxMessage {
				t.Fatalf("message not bounded: %d", len(ev.Message))
			}
			return nil
		}, st)
		if err != nil {
			return // a read error is allowed; a panic is not
		}
		if st.Records != n {
			t.Fatalf("Records %d, emitted %d", st.Records, n)
		}
		lines := int64(bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1) /* a lone CR ends a line too */
		if st.Records > 2*lines || st.Skipped > lines {
			t.Fatalf("more records/skips than lines: %+v for %d lines", st, lines)
		}
	})
}

func FuzzAnyDeskTrace(f *testing.F) {
	fuzzParser(f, anydeskTrace{}, winTrace,
		" * * * * *\n   info 2025-09-22 00:23:41.720    service   main   1214   1214   11   anynet.any_socket - Accept request from 1 (via relay).\n")
}

func FuzzAnyDeskConnTrace(f *testing.F) {
	fuzzParser(f, anydeskConnTrace{}, "Incoming     2014-11-26, 03:46 User                  user1@ad 654321\n")
}

func FuzzTeamViewerConnections(f *testing.F) {
	fuzzParser(f, tvConnections{}, "545021772\tCog-IT-ADMIN3\t13-08-2025 10:12:35\t13-08-2025 10:25:05\tCogwork_Admin\tRemoteControl\t{584b3e18-f0af-49e9-af50-f4de1b82e8df}\t\n")
}

func FuzzTeamViewerLogfile(f *testing.F) {
	fuzzParser(f, tvLogfile{}, "2025/08/20 11:14:27.371  2804       2904 S0   CPersistentParticipantManager::RemoveParticipant: [565963039,-2008752223]\n",
		"2025/08/20 11:02:49.585  1052       5128 G1   punch received a=[::1]:5\n")
}

func FuzzFromEVTX(f *testing.F) {
	f.Add("ScreenConnect Client (x)", "Transferred files with action 'Transfer': a")
	f.Add("ScreenConnect Client (x", "Executed command of length:")
	f.Add("Splashtop", "'")
	f.Fuzz(func(t *testing.T, provider, data string) {
		out, ok := FromEVTX(scEvent(provider, 0, data))
		if ok && (out.Source != event.SourceRMM || out.Action == "") {
			t.Fatalf("bad event %+v", out)
		}
	})
}

// benchInput repeats a real sample to about 8 MiB.
func benchInput(b *testing.B, rel string) ([]byte, int) {
	return ingesttest.Repeat(ingesttest.SampleBytes(b, rel), 8<<20)
}

func benchParser(b *testing.B, p input.Parser, rel string) {
	data, lines := benchInput(b, rel)
	ingesttest.Bench(b, p, ingesttest.Input(data, "bench", nil), lines)
}

func BenchmarkAnyDeskTrace(b *testing.B) {
	benchParser(b, anydeskTrace{}, "rmm/anydesk/artemis-api_anydesk_var_log.trace")
}

func BenchmarkTeamViewerConnections(b *testing.B) {
	benchParser(b, tvConnections{}, "rmm/teamviewer/HTB-Holmes2025-WatchmansResidue_Connections_incoming.txt")
}

func BenchmarkTeamViewerLogfile(b *testing.B) {
	benchParser(b, tvLogfile{}, "rmm/teamviewer/HTB-Holmes2025-WatchmansResidue_TeamViewer15_Logfile.EXCERPT.log")
}
