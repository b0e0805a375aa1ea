package firewall

import (
	"context"
	"strings"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// IPTables reads Linux netfilter LOG-target lines ("IN=eth0 OUT= SRC=…
// DST=… PROTO=TCP SPT=… DPT=…") as the kernel writes them to syslog, with
// the log prefixes of the usual front ends kept and read for the action:
// Shorewall ("Shorewall:net2fw:DROP:"), firewalld ("FINAL_REJECT: ",
// "filter_IN_public_REJECT: "), UFW ("[UFW BLOCK]"), SuSEfirewall2
// ("SFW2-INext-DROP-DEFLT"), OpenWrt ("DROP(src wan)") and custom ones.
// Other kernel and firewalld lines of the same log (martian source, the
// firewalld daemon's errors) become plain events with their message, so
// nothing of the file is lost.
type IPTables struct{}

// Name implements input.Parser.
func (IPTables) Name() string { return "iptables" }

// Detect implements input.Parser.
func (IPTables) Detect(in *input.Input) int {
	lines := headLines(in.Text, 100)
	n := share(lines, func(l string) bool { return netfilterStart(l) >= 0 })
	switch {
	case n >= 50:
		return 90
	case n > 0:
		return 70
	}
	if share(lines, isLinuxFirewallLine) >= 50 {
		return 35
	}
	return 0
}

func isLinuxFirewallLine(l string) bool {
	h, _ := parseSyslog(l, nil)
	if h.tag == "" && strings.HasPrefix(h.msg, "kernel: ") {
		h.tag = "kernel"
	}
	return h.tag == "kernel" || h.tag == "firewalld"
}

// netfilterStart finds "IN=" starting the packet fields (followed by
// OUT= and SRC=), or -1.
func netfilterStart(s string) int {
	// OUT= and SRC= must follow; their last positions bound the search
	// so that a line full of "IN=" stays linear.
	lastOut, lastSrc := strings.LastIndex(s, " OUT="), strings.LastIndex(s, "SRC=")
	off := 0
	for {
		i := strings.Index(s[off:], "IN=")
		if i < 0 {
			return -1
		}
		i += off
		if i >= lastOut || i >= lastSrc {
			return -1
		}
		if i == 0 || !isWordByte(s[i-1]) {
			return i
		}
		off = i + 3
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// Parse implements input.Parser.
func (p IPTables) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), iptablesState{}, emit, st)
}

type iptablesState struct{}

func (iptablesState) handle(l *liner, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	h, hasHdr := parseSyslog(line, nil)
	msg := h.msg
	if h.tag == "" {
		if rest, ok := strings.CutPrefix(msg, "kernel: "); ok {
			h.tag, msg = "kernel", rest
		}
	}
	ev := l.newEvent()
	if h.stamp != "" {
		l.add("syslog_time", h.stamp)
		_, ev.Time, _ = parseStamp(h.stamp, l.clock)
	}
	ev.Host = h.host
	if h.tag != "" {
		l.add("program", h.tag)
	}
	// kernel uptime stamp "[20474.050964] "
	if strings.HasPrefix(msg, "[") {
		if i := strings.IndexByte(msg, ']'); i > 0 && strings.Trim(msg[1:i], " .0123456789") == "" {
			l.add("uptime", strings.TrimSpace(msg[1:i]))
			msg = strings.TrimLeft(msg[i+1:], " ")
		}
	}
	ev.Message = msg
	start := netfilterStart(msg)
	if start < 0 {
		if !hasHdr && h.tag == "" {
			l.skip("not a netfilter line", line)
			return
		}
		l.add("text", msg)
		martian(ev, msg)
		l.emit(ev)
		return
	}
	prefix := strings.TrimSpace(msg[:start])
	l.add("prefix", prefix)
	variant, chain, act := nfPrefix(prefix)
	if variant != "" {
		l.add("variant", variant)
	}
	if chain != "" {
		l.add("chain", chain)
	}
	r := make(map[string]string, 32)
	var lastBare string
	splitKV(msg[start:], func(k, v string, bare bool) {
		if bare {
			if lastBare == "OPT" && strings.HasPrefix(k, "(") {
				ev.Fields.Update("OPT", k)
				lastBare = ""
				return
			}
			l.add(k, "")
			lastBare = k
			return
		}
		lastBare = ""
		if _, seen := r[k]; !seen {
			r[k] = v
		}
		l.add(k, v)
	})
	ev.SrcIP, ev.DstIP = cleanIP(r["SRC"]), cleanIP(r["DST"])
	ev.SrcPort, ev.DstPort = atoi32(r["SPT"]), atoi32(r["DPT"])
	ev.Protocol = normProto(r["PROTO"])
	ev.Action = act
	if r["IN"] == "" && r["OUT"] != "" {
		ev.BytesOut = atoi64(r["LEN"])
	} else {
		ev.BytesIn = atoi64(r["LEN"])
	}
	l.emit(ev)
}

// nfPrefix reads a LOG prefix: which front end wrote it, its chain, and
// the action word in it.
func nfPrefix(p string) (variant, chain, action string) {
	up := strings.ToUpper(p)
	switch {
	case strings.HasPrefix(p, "Shorewall:"):
		variant = "shorewall"
		parts := strings.Split(strings.TrimSuffix(p, ":"), ":")
		if len(parts) >= 3 {
			chain = parts[1]
			action = normAction(parts[2])
		}
	case strings.HasPrefix(up, "[UFW "):
		variant = "ufw"
	case strings.HasPrefix(p, "SFW2-") || strings.HasPrefix(p, "SuSE-FW-"):
		variant = "susefirewall2"
	case strings.HasPrefix(p, "FINAL_REJECT") || strings.HasPrefix(p, "filter_") || strings.HasPrefix(p, "nat_") || strings.HasPrefix(p, "mangle_"):
		variant = "firewalld"
		if strings.HasPrefix(p, "filter_") {
			chain = strings.TrimSuffix(p, ":")
		}
	}
	if action == "" {
		for _, w := range []struct{ word, act string }{
			{"REJECT", event.ActionReject}, {"DROP", event.ActionDrop}, {"BLOCK", event.ActionDeny}, {"DENY", event.ActionDeny},
			{"ACCEPT", event.ActionAllow}, {"-ACC-", event.ActionAllow}, {"ALLOW", event.ActionAllow}, {"PASS", event.ActionAllow},
		} {
			if strings.Contains(up, w.word) {
				action = w.act
				break
			}
		}
	}
	if action == "" {
		action = "log"
	}
	return
}

// martian reads "martian source DST from SRC, on dev IF".
func martian(ev *event.Event, msg string) {
	rest, ok := strings.CutPrefix(msg, "martian source ")
	if !ok {
		return
	}
	dst, rest, _ := strings.Cut(rest, " from ")
	src, _, _ := strings.Cut(rest, ",")
	ev.DstIP, ev.SrcIP = cleanIP(dst), cleanIP(src)
	ev.Action = event.ActionDrop
}
