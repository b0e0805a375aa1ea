package firewall

import (
	"strings"
	"time"
)

// syslogHeader is what precedes a firewall's own message when it comes
// through syslog: priority, timestamp, host, tag.
type syslogHeader struct {
	pri     int    // -1 when absent
	stamp   string // the timestamp as written
	t       time.Time
	timeBad bool // a timestamp was there but is impossible (e.g. "May 00")
	host    string
	tag     string // program, without [pid] and colon
	msg     string // the rest of the line
}

var monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// monthIndex returns 1..12 for a three-letter English month, else 0.
func monthIndex(s string) int {
	if len(s) != 3 {
		return 0
	}
	for i, m := range monthNames {
		if strings.EqualFold(s, m) {
			return i + 1
		}
	}
	return 0
}

// parseSyslog splits a syslog header from line. With a nil clock the
// timestamp is only recognised, not resolved (h.t stays zero). ok is false when the
// line does not start with a priority or a timestamp; then msg is the
// whole line. Host and tag are taken only when they look like them (a
// tag ends in ':' and has no '='), since devices differ in what they put
// after the time.
func parseSyslog(line string, c *clock) (h syslogHeader, ok bool) {
	h.pri = -1
	h.msg = line
	s := line
	if len(s) > 2 && s[0] == '<' {
		if i := strings.IndexByte(s[:min(len(s), 6)], '>'); i > 1 && allDigits(s[1:i]) {
			h.pri = atoi(s[1:i])
			s = s[i+1:]
			ok = true
		}
	}
	// RFC 5424: "1 2019-05-15T16:25:50Z host app procid msgid [sd] msg".
	if len(s) > 2 && s[0] == '1' && s[1] == ' ' && len(s) > 12 && isDigit(s[2]) && s[6] == '-' {
		rest := s[2:]
		if t, n, _, good := parseISO(rest, c); n > 0 {
			h.stamp, h.t, h.timeBad = rest[:n], t, !good
			f := strings.SplitN(strings.TrimLeft(rest[n:], " "), " ", 4)
			if len(f) == 4 {
				h.host, h.tag = nilDash(f[0]), nilDash(f[1])
				_, after, _ := strings.Cut(f[3], " ") // after msgid
				h.msg = skipSD(after)
				return h, true
			}
		}
	}
	n, t, good := parseStamp(s, c)
	if n == 0 {
		if ok {
			h.msg = s
		}
		return h, ok
	}
	h.stamp, h.t, h.timeBad = strings.TrimRight(s[:n], ": "), t, !good
	s = strings.TrimLeft(s[n:], " ")
	// Host, unless the next word is already the tag.
	w, rest := word(s)
	if w != "" && !isTag(w) && !strings.ContainsAny(w, "=,%") && rest != "" {
		h.host = w
		s = rest
		w, rest = word(s)
	}
	if isTag(w) {
		tag := strings.TrimSuffix(w, ":")
		if i := strings.IndexByte(tag, '['); i > 0 {
			tag = tag[:i]
		}
		h.tag = tag
		s = rest
	}
	h.msg = s
	return h, true
}

// isTag reports whether w looks like "prog:" or "prog[123]:".
func isTag(w string) bool {
	if len(w) < 2 || w[len(w)-1] != ':' || strings.ContainsAny(w, "=%\"") {
		return false
	}
	return w[0] != '[' // "[UFW" is not a tag
}

func word(s string) (w, rest string) {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i+1:], " ")
}

func nilDash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// parseStamp reads a syslog timestamp at the start of s and returns its
// length (with a trailing colon, as ASA writes it). Forms: "Mmm dd
// hh:mm:ss[.frac]", "Mmm dd yyyy hh:mm:ss", "yyyy Mmm dd hh:mm:ss", and
// ISO 8601. n is 0 if s does not start with one; good is false if it is
// shaped like one but impossible.
func parseStamp(s string, c *clock) (n int, t time.Time, good bool) {
	if len(s) >= 10 && isDigit(s[0]) && s[4] == '-' {
		t, n, _, good = parseISO(s, c)
		return n, t, good
	}
	year := -1
	i := 0
	if len(s) > 8 && allDigits(s[:4]) && s[4] == ' ' && monthIndex(s[5:8]) > 0 {
		year = atoi(s[:4])
		i = 5
	}
	if len(s) < i+15 {
		return 0, time.Time{}, false
	}
	mo := monthIndex(s[i : i+3])
	if mo == 0 || s[i+3] != ' ' {
		return 0, time.Time{}, false
	}
	i += 4
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && j-i < 2 && isDigit(s[j]) {
		j++
	}
	if j == i || j >= len(s) || s[j] != ' ' {
		return 0, time.Time{}, false
	}
	day := atoi(s[i:j])
	i = j + 1
	if year < 0 && len(s) >= i+5 && allDigits(s[i:i+4]) && s[i+4] == ' ' {
		year = atoi(s[i : i+4])
		i += 5
	}
	h, mi, sec, ns, k := parseClock(s[i:])
	if k == 0 {
		return 0, time.Time{}, false
	}
	i += k
	if i < len(s) && s[i] == ':' {
		i++
	}
	if c == nil { // shape only: the caller resolves the time if it needs it
		return i, time.Time{}, true
	}
	if year >= 0 {
		t, good = c.local(year, mo, day, h, mi, sec, ns)
	} else {
		t, good = c.yearlessTime(mo, day, h, mi, sec, ns)
	}
	return i, t, good
}

// parseClock reads "hh:mm:ss[.frac]"; k is its length or 0.
func parseClock(s string) (h, mi, sec, ns, k int) {
	if len(s) < 8 || !isDigit(s[0]) || !isDigit(s[1]) || s[2] != ':' || !isDigit(s[3]) || !isDigit(s[4]) || s[5] != ':' || !isDigit(s[6]) || !isDigit(s[7]) {
		return 0, 0, 0, 0, 0
	}
	h, mi, sec = atoi(s[0:2]), atoi(s[3:5]), atoi(s[6:8])
	k = 8
	if k < len(s) && (s[k] == '.' || s[k] == ',') {
		j := k + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		frac := s[k+1 : j]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		if frac != "" {
			ns = atoi(frac)
			for l := len(frac); l < 9; l++ {
				ns *= 10
			}
		}
		k = j
	}
	return
}

// parseISO reads "yyyy-mm-dd[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm]". A time
// without zone is read in the source zone.
func parseISO(s string, c *clock) (t time.Time, n int, zoned, good bool) {
	if len(s) < 19 || !allDigits(s[0:4]) || s[4] != '-' || !allDigits(s[5:7]) || s[7] != '-' || !allDigits(s[8:10]) || (s[10] != 'T' && s[10] != ' ') {
		return time.Time{}, 0, false, false
	}
	y, mo, d := atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10])
	h, mi, sec, ns, k := parseClock(s[11:])
	if k == 0 {
		return time.Time{}, 0, false, false
	}
	n = 11 + k
	off, zl, hasZone := parseOffset(s[n:])
	if hasZone {
		n += zl
		if !validDate(y, mo, d, h, mi, sec) {
			return time.Time{}, n, true, false
		}
		if sec == 60 {
			sec = 59
		}
		return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC).Add(-time.Duration(off) * time.Second), n, true, true
	}
	if c == nil {
		return time.Time{}, n, false, true
	}
	t, good = c.local(y, mo, d, h, mi, sec, ns)
	return t, n, false, good
}

// parseOffset reads "Z", "±hh:mm", "±hhmm" or "±hh" and returns seconds
// east of UTC.
func parseOffset(s string) (off, n int, ok bool) {
	if s == "" {
		return 0, 0, false
	}
	if s[0] == 'Z' {
		return 0, 1, true
	}
	if s[0] != '+' && s[0] != '-' {
		return 0, 0, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	switch {
	case len(s) >= 6 && allDigits(s[1:3]) && s[3] == ':' && allDigits(s[4:6]):
		off, n = atoi(s[1:3])*3600+atoi(s[4:6])*60, 6
	case len(s) >= 5 && allDigits(s[1:5]):
		off, n = atoi(s[1:3])*3600+atoi(s[3:5])*60, 5
	case len(s) >= 3 && allDigits(s[1:3]):
		off, n = atoi(s[1:3])*3600, 3
	default:
		return 0, 0, false
	}
	if off > 14*3600 {
		return 0, 0, false
	}
	return sign * off, n, true
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// atoi reads a short run of digits (callers check allDigits).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 9; i++ {
		if !isDigit(s[i]) {
			return n
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// skipSD drops RFC 5424 structured data ("-" or one or more [id k="v"]
// elements) from the start of s.
func skipSD(s string) string {
	if s == "-" {
		return ""
	}
	if strings.HasPrefix(s, "- ") {
		return s[2:]
	}
	for strings.HasPrefix(s, "[") {
		i, inQ := 1, false
		for i < len(s) {
			c := s[i]
			if c == '\\' && inQ {
				i += 2
				continue
			}
			if c == '"' {
				inQ = !inQ
			} else if c == ']' && !inQ {
				break
			}
			i++
		}
		if i >= len(s) {
			return ""
		}
		s = s[i+1:]
	}
	return strings.TrimPrefix(s, " ")
}
