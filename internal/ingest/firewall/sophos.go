package firewall

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// Sophos reads Sophos firewall key=value logs: XG / SFOS (device="SFW",
// log_type=, log_component=; date/time with timezone="+08", or ISO
// timestamp= on SFOS 19+) and UTM 9 (ulogd/afcd lines 'id="2001"
// severity=… sys="SecureNet" sub="packetfilter"' behind a
// "2017:07:18-10:45:45 host prog[pid]:" header, local time).
type Sophos struct{}

// Name implements input.Parser.
func (Sophos) Name() string { return "sophos" }

// Detect implements input.Parser.
func (Sophos) Detect(in *input.Input) int {
	lines := headLines(in.Text, 50)
	n := share(lines, func(l string) bool { return isSophosXG(l) || isSophosUTM(l) })
	switch {
	case n >= 50:
		return 90
	case n > 0:
		return 60
	}
	return 0
}

func isSophosXG(l string) bool {
	return hasKey(l, "log_type") && hasKey(l, "log_component") && (hasKey(l, "device") || hasKey(l, "device_name") || hasKey(l, "device_id"))
}

func isSophosUTM(l string) bool {
	return hasKey(l, "sys") && hasKey(l, "sub") && hasKey(l, "severity") && hasKey(l, "id")
}

var utmHeader = regexp.MustCompile(`^(\d{4}):(\d\d):(\d\d)-(\d\d):(\d\d):(\d\d)(?:\.\d+)? (\S+) ([\w\-./]+)(?:\[\d+\])?: `)

// Parse implements input.Parser.
func (p Sophos) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), sophosState{}, emit, st)
}

type sophosState struct{}

func (sophosState) handle(l *liner, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	ev := l.newEvent()
	msg := line
	var hdrTime time.Time
	var stamp string
	if m := utmHeader.FindStringSubmatch(line); m != nil {
		l.add("syslog_time", line[:19])
		ev.Host = m[7]
		l.add("program", m[8])
		hdrTime, _ = l.clock.local(atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), 0)
		msg = line[len(m[0]):]
	} else {
		h, _ := parseSyslog(line, nil)
		if h.stamp != "" {
			l.add("syslog_time", h.stamp)
			ev.Host = h.host
			msg = h.msg
			stamp = h.stamp
		}
	}
	if !isSophosXG(msg) && !isSophosUTM(msg) {
		l.skip("not a Sophos firewall record", line)
		return
	}
	r := fillKV(l, ev, msg)
	ev.Time = sophosTime(l, r)
	if ev.Time.IsZero() {
		ev.Time = hdrTime
	}
	if ev.Time.IsZero() && stamp != "" {
		_, ev.Time, _ = parseStamp(stamp, l.clock)
	}
	if h := r.first("device_name"); h != "" {
		ev.Host = h
	}
	ev.SrcIP = cleanIP(r.first("src_ip", "srcip"))
	ev.DstIP = cleanIP(r.first("dst_ip", "dstip"))
	ev.SrcPort = atoi32(r.first("src_port", "srcport"))
	ev.DstPort = atoi32(r.first("dst_port", "dstport"))
	ev.Protocol = normProto(r.first("protocol", "proto"))
	ev.Action = normAction(r.first("status", "action", "log_subtype"))
	ev.BytesOut = atoi64(r.first("sent_bytes"))
	ev.BytesIn = atoi64(r.first("recv_bytes"))
	ev.User = r.first("user_name", "user")
	ev.SessionID = r.first("connid")
	ev.Message = msg
	l.emit(ev)
}

// sophosTime reads timestamp= (ISO) or date=/time= with timezone=.
func sophosTime(l *liner, r kvRecord) time.Time {
	if ts := r["timestamp"]; ts != "" {
		if t, n, _, good := parseISO(ts, l.clock); n > 0 && good {
			return t
		}
	}
	date, clk := r["date"], r["time"]
	h, mi, sec, ns, k := parseClock(clk)
	if !isISODate(date) || k == 0 {
		return time.Time{}
	}
	y, mo, d := atoi(date[:4]), atoi(date[5:7]), atoi(date[8:])
	if off, n, ok := parseOffset(r["timezone"]); ok && n == len(r["timezone"]) && validDate(y, mo, d, h, mi, sec) {
		return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC).Add(-time.Duration(off) * time.Second)
	}
	if tz := r["timezone"]; tz != "" {
		l.st.Note("timezone=%q is not a numeric offset; the configured zone was used", tz)
	}
	t, _ := l.clock.local(y, mo, d, h, mi, sec, ns)
	return t
}

// SophosAV reads the Sophos Anti-Virus logs that firewall exports carry
// along: the savscan/savupdate XML lines of Sophos for Linux/Unix
// ("<log><category>…<time>epoch</time>…</log>") and the Windows SAV log
// ("20160806 050000<TAB>message", local time).
type SophosAV struct{}

// Name implements input.Parser.
func (SophosAV) Name() string { return "sophos-av" }

var savLine = regexp.MustCompile(`^(\d{4})(\d\d)(\d\d) (\d\d)(\d\d)(\d\d)\t(.*)$`)

// Detect implements input.Parser.
func (SophosAV) Detect(in *input.Input) int {
	lines := headLines(in.Text, 50)
	n := share(lines, func(l string) bool {
		return strings.HasPrefix(l, "<log><category>") || savLine.MatchString(l)
	})
	switch {
	case n >= 50:
		return 80
	case n > 0:
		return 40
	}
	return 0
}

// Parse implements input.Parser.
func (p SophosAV) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), savState{}, emit, st)
}

type savState struct{}

var savTag = regexp.MustCompile(`<(\w+)>([^<]*)</(\w+)>`)

func (savState) handle(l *liner, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	ev := l.newEvent()
	if m := savLine.FindStringSubmatch(line); m != nil {
		ev.Time, _ = l.clock.local(atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4]), atoi(m[5]), atoi(m[6]), 0)
		l.add("time", line[:15])
		l.add("message", m[7])
		ev.Message = m[7]
		l.emit(ev)
		return
	}
	if !strings.HasPrefix(line, "<log>") {
		l.skip("not a Sophos AV log line", line)
		return
	}
	var text string
	var args []string
	for _, m := range savTag.FindAllStringSubmatch(line, -1) {
		if m[1] != m[3] {
			continue
		}
		v := xmlUnescape(m[2])
		l.add(m[1], v)
		switch m[1] {
		case "msg":
			text = v
		case "arg":
			args = append(args, v)
		case "time":
			ev.Time, _ = epochTime(v)
		}
	}
	for _, a := range args {
		if !strings.Contains(text, "%s") {
			break
		}
		text = strings.Replace(text, "%s", a, 1)
	}
	ev.Message = text
	l.emit(ev)
}

var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

func xmlUnescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return xmlEntities.Replace(s)
}
