package firewall

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// FortiGate reads FortiOS key=value logs (traffic, event and UTM types,
// FortiOS 4 to 7 key names), with or without a syslog header.
//
// Time: date= and time= are the device's wall clock. FortiOS 6.2+ adds
// tz="+0200" (used when present) and eventtime= (epoch, s/µs/ns), which
// wins when it agrees with date/time to within a day (anonymised logs
// carry nonsense eventtimes); otherwise date/time are read in the zone
// configured for "fortigate".
type FortiGate struct{}

// Name implements input.Parser.
func (FortiGate) Name() string { return "fortigate" }

// Detect implements input.Parser.
func (FortiGate) Detect(in *input.Input) int {
	lines := headLines(in.Text, 50)
	n := share(lines, isFortiLine)
	switch {
	case n >= 50:
		return 90
	case n >= 20:
		return 60
	case n > 0:
		return 30
	}
	return 0
}

func isFortiLine(l string) bool {
	return (hasKey(l, "logid") || hasKey(l, "log_id")) && hasKey(l, "type") && hasKey(l, "date") && hasKey(l, "time")
}

// Parse implements input.Parser.
func (p FortiGate) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), fortiState{}, emit, st)
}

type fortiState struct{}

// kvRecord is a parsed key=value message: Fields in order plus a lookup
// of first values.
type kvRecord map[string]string

func (r kvRecord) first(keys ...string) string {
	for _, k := range keys {
		if v := r[k]; v != "" && v != "N/A" && v != "n/a" {
			return v
		}
	}
	return ""
}

// fillKV parses msg into ev.Fields and returns the lookup. fixClock
// joins "time=10: 13:03" (a FortiOS 4 quirk in real logs) back together.
func fillKV(l *liner, ev *event.Event, msg string) kvRecord {
	rec := make(kvRecord, 64)
	var lastKey, lastVal string
	splitKV(msg, func(k, v string, bare bool) {
		if bare {
			if lastKey == "time" && strings.HasSuffix(lastVal, ":") && len(k) == 5 && k[2] == ':' {
				lastVal += k
				rec["time"] = lastVal
				ev.Fields.Update("time", lastVal)
				lastKey = ""
				return
			}
			l.add(k, "")
			lastKey = ""
			return
		}
		if _, seen := rec[k]; !seen {
			rec[k] = v
		}
		l.add(k, v)
		lastKey, lastVal = k, v
	})
	return rec
}

func (fortiState) handle(l *liner, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	h, _ := parseSyslog(line, nil)
	if !isFortiLine(h.msg) && !(hasKey(h.msg, "devname") && hasKey(h.msg, "type")) {
		l.skip("not a FortiGate record", line)
		return
	}
	ev := l.newEvent()
	if h.stamp != "" {
		l.add("syslog_time", h.stamp)
	}
	if h.host != "" {
		l.add("syslog_host", h.host)
	}
	r := fillKV(l, ev, h.msg)
	ev.Time = fortiTime(l, r)
	if ev.Time.IsZero() && h.stamp != "" {
		_, ev.Time, _ = parseStamp(h.stamp, l.clock)
	}
	ev.Host = r.first("devname", "device_name")
	if ev.Host == "" {
		ev.Host = h.host
	}
	ev.SrcIP = cleanIP(r.first("srcip", "src", "remip"))
	if ev.SrcIP == "" {
		ev.SrcIP = parenIP(r["ui"])
	}
	ev.DstIP = cleanIP(r.first("dstip", "dst", "locip"))
	ev.SrcPort = atoi32(r.first("srcport", "src_port", "remport"))
	ev.DstPort = atoi32(r.first("dstport", "dst_port", "locport"))
	ev.Protocol = normProto(r["proto"])
	if svc := r["service"]; ev.Protocol == "" || strings.Contains(svc, "/") {
		if a, b, ok := strings.Cut(svc, "/"); ok {
			if p := normProto(b); p == "tcp" || p == "udp" || p == "icmp" {
				ev.Protocol = p
			} else if p := normProto(a); p == "tcp" || p == "udp" || p == "icmp" {
				ev.Protocol = p
			}
		}
	}
	ev.Action = normAction(r.first("action", "status"))
	ev.BytesOut = atoi64(r.first("sentbyte", "sent"))
	ev.BytesIn = atoi64(r.first("rcvdbyte", "rcvd"))
	ev.User = r.first("user", "srcuser")
	ev.SessionID = r.first("sessionid", "session_id")
	if id := atoi64(r.first("logid", "log_id")).V; id <= 1<<31-1 {
		ev.EventID = int32(id) // anonymised samples carry 10-digit ids that do not fit
	}
	ev.Message = h.msg
	l.emit(ev)
}

// fortiTime picks the event time as described on FortiGate.
func fortiTime(l *liner, r kvRecord) time.Time {
	date, clk := r["date"], r["time"]
	var wall time.Time
	h, mi, sec, ns, k := parseClock(clk)
	hasWall := isISODate(date) && k > 0 && validDate(atoi(date[:4]), atoi(date[5:7]), atoi(date[8:]), h, mi, sec)
	if hasWall {
		wall = time.Date(atoi(date[:4]), time.Month(atoi(date[5:7])), atoi(date[8:]), h, mi, sec, ns, time.UTC)
	}
	if et, ok := fortiEpoch(r["eventtime"]); ok {
		if !hasWall || absDur(et.Sub(wall)) <= 26*time.Hour {
			return et
		}
		l.st.Note("eventtime disagrees with date/time by more than a day on some lines; date/time used")
	}
	if !hasWall {
		return time.Time{}
	}
	if off, n, ok := parseOffset(r["tz"]); ok && n == len(r["tz"]) {
		return wall.Add(-time.Duration(off) * time.Second)
	}
	t, _ := l.clock.local(wall.Year(), int(wall.Month()), wall.Day(), h, mi, sec, ns)
	return t
}

// fortiEpoch reads eventtime in seconds, ms, µs or ns.
func fortiEpoch(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	switch {
	case n > 1e17:
		return time.Unix(0, n).UTC(), true
	case n > 1e14:
		return time.UnixMicro(n).UTC(), true
	case n > 1e11:
		return time.UnixMilli(n).UTC(), true
	}
	return time.Unix(n, 0).UTC(), true
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// parenIP takes the address from "https(4.3.5.253)".
func parenIP(s string) string {
	i := strings.IndexByte(s, '(')
	j := strings.LastIndexByte(s, ')')
	if i < 0 || j <= i {
		return ""
	}
	return cleanIP(s[i+1 : j])
}
