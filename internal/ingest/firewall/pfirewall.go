package firewall

import (
	"context"
	"net/netip"
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// PFirewall reads the Windows Firewall log (pfirewall.log): W3C-style
// space-separated columns named by a "#Fields:" header, local time
// without zone. Excerpts without the header are read in the standard
// column order (17 columns, or 18 with the "pid" column newer Windows
// writes).
type PFirewall struct{}

// Name implements input.Parser.
func (PFirewall) Name() string { return "pfirewall" }

var pfirewallFields = strings.Fields("date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path")

var pfirewallFieldsPID = append(append([]string(nil), pfirewallFields...), "pid")

var pfirewallActions = map[string]bool{"ALLOW": true, "DROP": true, "OPEN": true, "CLOSE": true, "OPEN-INBOUND": true, "INFO-EVENTS-LOST": true}

// Detect implements input.Parser.
func (PFirewall) Detect(in *input.Input) int {
	t := string(in.Text)
	if strings.Contains(t, "#Software: Microsoft Windows Firewall") {
		return 100
	}
	if strings.Contains(t, "#Fields: date time action protocol src-ip dst-ip src-port dst-port") {
		return 95
	}
	lines := headLines(in.Text, 50)
	if share(lines, isPFirewallRecord) >= 80 {
		return 80
	}
	return 0
}

func isPFirewallRecord(l string) bool {
	f := strings.Fields(l)
	return len(f) >= 8 && isISODate(f[0]) && len(f[1]) == 8 && f[1][2] == ':' && pfirewallActions[f[2]]
}

func isISODate(s string) bool {
	return len(s) == 10 && allDigits(s[:4]) && s[4] == '-' && allDigits(s[5:7]) && s[7] == '-' && allDigits(s[8:])
}

// Parse implements input.Parser.
func (p PFirewall) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), &pfirewallState{}, emit, st)
}

type pfirewallState struct {
	fields []string // from #Fields:, or nil for the standard order
}

func (s *pfirewallState) handle(l *liner, line string) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" {
		return
	}
	if trimmed[0] == '#' {
		if rest, ok := strings.CutPrefix(trimmed, "#Fields:"); ok {
			s.fields = strings.Fields(rest)
		}
		return
	}
	// Some copies run records together on one line; each starts with a
	// date and time.
	recs := splitDated(trimmed)
	if recs == nil {
		s.record(l, trimmed)
		return
	}
	for _, rec := range recs {
		s.record(l, rec)
	}
}

func (s *pfirewallState) record(l *liner, rec string) {
	vals := strings.Fields(rec)
	names := s.fields
	if names == nil {
		names = pfirewallFields
		if len(vals) == len(pfirewallFields)+1 {
			names = pfirewallFieldsPID
		}
	}
	if len(vals) < 8 || !isISODate(vals[0]) {
		l.skip("malformed pfirewall record", rec)
		return
	}
	ev := l.newEvent()
	get := l.addColumns(names, vals, "extra")
	if len(vals) < len(names) {
		l.st.Note("some records have fewer columns than the #Fields header (kept what is there)")
	}
	date, clk := get("date"), get("time")
	h, mi, sec, ns, k := parseClock(clk)
	if len(date) == 10 && k > 0 {
		if t, ok := l.clock.local(atoi(date[0:4]), atoi(date[5:7]), atoi(date[8:10]), h, mi, sec, ns); ok {
			ev.Time = t
		}
	}
	if ev.Time.IsZero() {
		l.st.Error("line " + itoa64(l.line) + ": bad date/time " + date + " " + clk)
	}
	ev.Action = normAction(get("action"))
	switch get("action") {
	case "OPEN-INBOUND":
		ev.Action = event.ActionOpen
	case "INFO-EVENTS-LOST":
		ev.Action = "info"
	}
	ev.Protocol = normProto(get("protocol"))
	ev.SrcIP = cleanIP(get("src-ip"))
	ev.DstIP = cleanIP(get("dst-ip"))
	ev.SrcPort = atoi32(get("src-port"))
	ev.DstPort = atoi32(get("dst-port"))
	size := atoi64(get("size"))
	switch get("path") {
	case "SEND":
		ev.BytesOut = size
	case "RECEIVE":
		ev.BytesIn = size
	}
	ev.Message = rec
	l.emit(ev)
}

// splitDated splits a line at every "yyyy-mm-dd hh:mm:ss ACTION" that
// starts a record (the first one at the line start); nil when the line
// holds one record.
func splitDated(s string) []string {
	var out []string
	start := 0
	for i := 1; i+19 <= len(s); i++ {
		if isDigit(s[i]) && !isDigit(s[i-1]) && isISODate(s[i:i+10]) && s[i+10] == ' ' {
			if _, _, _, _, k := parseClock(s[i+11:]); k == 8 && len(s) > i+20 && s[i+19] == ' ' {
				act, _, _ := strings.Cut(s[i+20:], " ")
				if pfirewallActions[act] {
					out = append(out, strings.TrimSpace(s[start:i]))
					start = i
				}
			}
		}
	}
	if out == nil {
		return nil
	}
	out = append(out, strings.TrimSpace(s[start:]))
	// Split only when every piece is a record; otherwise the line is
	// one (possibly malformed) record, counted once.
	for _, r := range out {
		if !isPFirewallRecord(r) {
			return nil
		}
	}
	return out
}

// cleanIP returns s if it is an IP address, else "" (anonymised samples
// write "x.x.x.79"; the raw value stays in Fields).
func cleanIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	return a.Unmap().String()
}
