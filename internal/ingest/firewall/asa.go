package firewall

import (
	"context"
	"regexp"
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// ASA reads Cisco ASA, PIX, FWSM and Firepower Threat Defense (FTD)
// syslog messages ("%ASA-6-302013: Built …"). The products share one
// message catalogue, so one parser reads them all; Fields["product"] says
// which one wrote the line.
//
// Endpoints come from the catalogue's phrasing ("from A to B", "src A dst
// B", "for A to B", "faddr A … laddr B", "A -> B"). Built messages
// (302013/302015) say which side initiated; teardowns (302014/302016) do
// not, so the initiator is remembered by connection id from the built
// message when the file has it. ASA gives one byte count per connection
// (both directions): it goes to BytesOut as the connection total, and
// Fields["bytes"] keeps it as written.
type ASA struct{}

// Name implements input.Parser.
func (ASA) Name() string { return "cisco-asa" }

var asaIDRE = regexp.MustCompile(`%?(ASA|PIX|FTD|FWSM)-(\d)-(\d{6})\b:?\s*`)

// Detect implements input.Parser.
func (ASA) Detect(in *input.Input) int {
	lines := headLines(in.Text, 100)
	n := share(lines, func(l string) bool { return asaIDRE.MatchString(l) })
	switch {
	case n >= 50:
		return 90
	case n >= 20:
		return 70
	case n > 0:
		return 40
	}
	return 0
}

// Parse implements input.Parser.
func (p ASA) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), &asaState{conns: map[string]asaConn{}}, emit, st)
}

type asaConn struct{ outbound bool }

type asaState struct {
	conns map[string]asaConn // connection id → direction of its built message
}

const asaMaxConns = 1 << 17

var (
	asaEP       = `((?:[\w\-.]+:\s?)?[^\s,;()\[\]]+(?:\(\d+\))?)`
	asaFromTo   = regexp.MustCompile(`\b(?:from|for)\s+(?:faddr\s+)?` + asaEP + `(?:\s+\([^)]*\))?(?:\([^)]*\))?\s+(?:to|gaddr\s+\S+\s+laddr)\s+` + asaEP)
	asaSrcDst   = regexp.MustCompile(`\bsrc\s+` + asaEP + `\s+dst\s+` + asaEP)
	asaArrow    = regexp.MustCompile(asaEP + `\s+->\s+` + asaEP)
	asaFromOnly = regexp.MustCompile(`\bfrom\s+` + asaEP + `\s+on\s+interface\b`)
	asaBuilt    = regexp.MustCompile(`^Built (inbound|outbound) (\w+) connection (\d+)`)
	asaTeardown = regexp.MustCompile(`^Teardown (\w+) connection (\d+) .*?duration (\S+) bytes (\d+)`)
	asaPipe     = regexp.MustCompile(`^(\d)\|([^|]+)\|(\d{6}): `)
	asaBareID   = regexp.MustCompile(`^(\d{6}): `)
)

var servicePorts = map[string]int32{
	"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67, "bootpc": 68,
	"tftp": 69, "http": 80, "www": 80, "pop3": 110, "ntp": 123, "netbios-ns": 137, "netbios-dgm": 138,
	"netbios-ssn": 139, "imap4": 143, "snmp": 161, "ldap": 389, "https": 443, "isakmp": 500, "syslog": 514,
	"ldaps": 636, "rdp": 3389,
}

func (s *asaState) handle(l *liner, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	h, _ := parseSyslog(line, nil)
	msg := h.msg
	ev := l.newEvent()
	if h.stamp != "" {
		l.add("syslog_time", h.stamp)
	}
	stamp := h.stamp
	var product, sev, id string
	if pr, sv, mid, rest, ok := asaID(msg); ok {
		product, sev, id, msg = pr, sv, mid, rest
	} else if m := asaPipe.FindStringSubmatch(msg); m != nil {
		sev, stamp, id = m[1], m[2], m[3]
		msg = msg[len(m[0]):]
	} else if m := asaBareID.FindStringSubmatch(msg); m != nil {
		id = m[1]
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimSpace(msg)
	if product != "" {
		l.add("product", product)
	}
	if sev != "" {
		l.add("severity", sev)
	}
	if id != "" {
		l.add("message_id", id)
		ev.EventID = int32(atoi(id))
	}
	l.add("text", msg)
	if stamp != "" {
		_, ev.Time, _ = parseStamp(stamp, l.clock)
	}
	ev.Host = h.host
	if ev.Host == "" {
		ev.Host = h.tag
	}
	found := s.endpoints(l, ev, msg)
	if strings.HasPrefix(id, "4300") {
		found = ftdConnEvent(l, ev, msg) || found
	}
	if id == "" && !found {
		l.skip("not a Cisco ASA message", line)
		return
	}
	if ev.Action == "" {
		ev.Action = asaAction(msg)
	}
	if ev.Protocol == "" {
		ev.Protocol = asaProtocol(msg)
	}
	ev.Message = h.msg
	l.emit(ev)
}

// endpoints fills addresses, ports, direction and bytes; it reports
// whether the message named any endpoint.
func (s *asaState) endpoints(l *liner, ev *event.Event, msg string) bool {
	msg = strings.ReplaceAll(msg, "NP Identity Ifc: ", "NP_Identity_Ifc:")
	// The cheap substring tests keep the regexps off lines that cannot match.
	var a, b string
	hasTo := strings.Contains(msg, " to ") || strings.Contains(msg, " laddr ")
	if m := match(hasTo, asaFromTo, msg); m != nil {
		a, b = m[1], m[2]
	} else if m := match(strings.Contains(msg, " dst "), asaSrcDst, msg); m != nil {
		a, b = m[1], m[2]
	} else if m := match(strings.Contains(msg, " -> "), asaArrow, msg); m != nil {
		a, b = m[1], m[2]
	} else if m := match(strings.Contains(msg, " on interface"), asaFromOnly, msg); m != nil {
		a = m[1] // "Denied ICMP type=3, code=3 from 10.2.3.5 on interface outside"
	} else {
		return false
	}
	ai, aip, aport := asaEndpoint(a)
	bi, bip, bport := asaEndpoint(b)
	if aip == "" && bip == "" {
		return false
	}
	// Built and teardown messages name the outside side first ("for"):
	// the initiator is the "for" side of inbound connections and the
	// "to" side of outbound ones.
	swap := false
	if m := match(strings.HasPrefix(msg, "Built "), asaBuilt, msg); m != nil {
		out := m[1] == "outbound"
		swap = out
		if len(s.conns) >= asaMaxConns {
			clear(s.conns)
		}
		s.conns[m[3]] = asaConn{outbound: out}
		l.add("direction", m[1])
		l.add("connection_id", m[3])
		ev.SessionID = m[3]
		ev.Action = event.ActionOpen
	} else if m := match(strings.HasPrefix(msg, "Teardown "), asaTeardown, msg); m != nil {
		if c, ok := s.conns[m[2]]; ok {
			swap = c.outbound
			delete(s.conns, m[2])
			l.add("direction", map[bool]string{true: "outbound", false: "inbound"}[c.outbound])
		}
		l.add("connection_id", m[2])
		l.add("duration", m[3])
		l.add("bytes", m[4])
		ev.SessionID = m[2]
		ev.BytesOut = atoi64(m[4])
		ev.Action = event.ActionClose
	}
	if swap {
		ai, aip, aport, bi, bip, bport = bi, bip, bport, ai, aip, aport
	}
	l.add("src_interface", ai)
	l.add("src", strings.TrimSpace(a))
	l.add("dst_interface", bi)
	l.add("dst", strings.TrimSpace(b))
	if swap {
		// keep the raw texts paired with their roles
		ev.Fields.Update("src", strings.TrimSpace(b))
		ev.Fields.Update("dst", strings.TrimSpace(a))
	}
	ev.SrcIP, ev.SrcPort = aip, aport
	ev.DstIP, ev.DstPort = bip, bport
	return true
}

// asaEndpoint splits "iface:addr/port", "iface/addr(port)" or "addr".
func asaEndpoint(s string) (iface, ip string, port event.Opt[int32]) {
	s = strings.TrimSpace(s)
	var p string
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		p = s[i+1 : len(s)-1]
		s = s[:i]
		if j := strings.IndexByte(s, '/'); j > 0 && cleanIP(s[j+1:]) != "" {
			return s[:j], cleanIP(s[j+1:]), atoi32(p)
		}
	} else if i := strings.LastIndexByte(s, '/'); i >= 0 {
		p = s[i+1:]
		s = s[:i]
	}
	if ip = cleanIP(s); ip == "" {
		if i := strings.IndexByte(s, ':'); i > 0 {
			iface = s[:i]
			ip = cleanIP(strings.TrimSpace(s[i+1:]))
		}
	}
	if n := atoi32(p); n.V > 0 {
		port = n
	} else if n, ok := servicePorts[strings.ToLower(p)]; ok {
		port = event.Some(n)
	}
	return iface, ip, port
}

// asaAction reads the action from the message wording.
func asaAction(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case strings.HasPrefix(m, "deny"), strings.HasPrefix(m, "denied"), strings.Contains(m, " denied"), strings.Contains(m, "access denied"):
		return event.ActionDeny
	case strings.HasPrefix(m, "drop"), strings.Contains(m, " dropped"), strings.Contains(m, "discarded"), strings.Contains(m, "to drop"):
		return event.ActionDrop
	case strings.HasPrefix(m, "built"):
		return event.ActionOpen
	case strings.HasPrefix(m, "teardown"):
		return event.ActionClose
	case strings.Contains(m, " permitted"), strings.Contains(m, "est-allowed"):
		return event.ActionAllow
	case strings.Contains(m, "access requested"):
		return "request"
	}
	return ""
}

// ftdConnEvent reads FTD connection events (430001–430005): "Key: value,
// Key: value".
func ftdConnEvent(l *liner, ev *event.Event, msg string) bool {
	kv := map[string]string{}
	for _, part := range strings.Split(msg, ", ") {
		k, v, ok := strings.Cut(part, ": ")
		if !ok || strings.ContainsAny(k, " ") {
			continue
		}
		l.add(k, v)
		kv[k] = v
	}
	if kv["InitiatorIP"] == "" {
		return false
	}
	ev.SrcIP, ev.DstIP = cleanIP(kv["InitiatorIP"]), cleanIP(kv["ResponderIP"])
	ev.SrcPort, ev.DstPort = atoi32(kv["InitiatorPort"]), atoi32(kv["ResponderPort"])
	ev.Protocol = normProto(kv["Protocol"])
	ev.BytesOut, ev.BytesIn = atoi64(kv["InitiatorBytes"]), atoi64(kv["ResponderBytes"])
	if a := kv["AccessControlRuleAction"]; a != "" {
		ev.Action = normAction(a)
	}
	ev.User = kv["User"]
	return true
}

func match(ok bool, re *regexp.Regexp, s string) []string {
	if !ok {
		return nil
	}
	return re.FindStringSubmatch(s)
}

// asaID finds "%ASA-6-302013:" (or PIX/FTD/FWSM, with or without %) in
// the first bytes of msg and returns the text after it.
func asaID(msg string) (product, sev, id, rest string, ok bool) {
	lim := msg
	if len(lim) > 72 {
		lim = lim[:72]
	}
	for _, pr := range [...]string{"ASA-", "PIX-", "FTD-", "FWSM-"} {
		i := strings.Index(lim, pr)
		if i < 0 {
			continue
		}
		if i > 0 && msg[i-1] != '%' && msg[i-1] != ' ' {
			continue
		}
		j := i + len(pr)
		if len(msg) < j+8 || !isDigit(msg[j]) || msg[j+1] != '-' || !allDigits(msg[j+2:j+8]) || (len(msg) > j+8 && isDigit(msg[j+8])) {
			continue
		}
		rest = msg[j+8:]
		rest = strings.TrimPrefix(rest, ":")
		return pr[:len(pr)-1], msg[j : j+1], msg[j+2 : j+8], strings.TrimLeft(rest, " "), true
	}
	return "", "", "", "", false
}

// asaProtocol is the first protocol word of the message.
func asaProtocol(msg string) string {
	rest := msg
	for rest != "" {
		var w string
		w, rest = word(rest)
		w = strings.ToLower(strings.Trim(w, "(),:;"))
		switch w {
		case "tcp", "udp", "icmp", "gre", "esp", "ah", "sctp", "ip":
			return w
		case "icmp6", "icmpv6":
			return "icmpv6"
		case "protocol":
			n, _ := word(rest)
			if allDigits(n) {
				return normProto(n)
			}
		}
	}
	return ""
}
