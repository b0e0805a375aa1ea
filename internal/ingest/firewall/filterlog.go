package firewall

import (
	"context"
	"strings"
	"sync"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// Filterlog reads pfSense and OPNsense "filterlog" lines: one CSV packet
// record (pfSense 2.2+ layout) behind a BSD or RFC 5424 syslog header.
// Other programs' lines in the same export (dhcpd, unbound, …) are counted
// as skipped, not dropped silently.
type Filterlog struct{}

// Name implements input.Parser.
func (Filterlog) Name() string { return "filterlog" }

// Detect implements input.Parser.
func (Filterlog) Detect(in *input.Input) int {
	lines := headLines(in.Text, 50)
	tagged := 0
	n := share(lines, func(l string) bool {
		h, _ := parseSyslog(l, nil)
		ok := isFilterlogCSV(h.msg)
		if ok && h.tag == "filterlog" {
			tagged++
		}
		return ok
	})
	switch {
	case tagged > 0 && n >= 30:
		return 90
	case tagged > 0:
		return 70
	case n >= 50:
		return 60
	}
	return 0
}

// isFilterlogCSV checks the fixed head of a record: …,reason,action,dir,ipver.
func isFilterlogCSV(s string) bool {
	f := strings.SplitN(s, ",", 10)
	if len(f) < 10 {
		return false
	}
	switch f[6] {
	case "pass", "block", "reject", "match", "scrub", "nat", "rdr", "binat":
	default:
		return false
	}
	return (f[7] == "in" || f[7] == "out") && (f[8] == "4" || f[8] == "6") && (f[0] == "" || allDigits(f[0]))
}

var (
	filterlogHead = strings.Split("rule,subrule,anchor,tracker,interface,reason,action,direction,ip_version", ",")
	filterlogV4   = strings.Split("tos,ecn,ttl,id,offset,ip_flags,proto_id,proto,length,src,dst", ",")
	filterlogV6   = strings.Split("class,flow_label,hop_limit,proto,proto_id,length,src,dst", ",")
	filterlogProt = map[string][]string{
		"tcp":  strings.Split("src_port,dst_port,data_length,tcp_flags,sequence,ack,window,urg,options", ","),
		"udp":  strings.Split("src_port,dst_port,data_length", ","),
		"icmp": {"icmp_type"},
		"carp": strings.Split("carp_type,carp_ttl,vhid,version,advskew,advbase", ","),
	}
)

// Parse implements input.Parser.
func (p Filterlog) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), filterlogState{}, emit, st)
}

type filterlogState struct{}

func (filterlogState) handle(l *liner, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	h, _ := parseSyslog(line, nil)
	if !isFilterlogCSV(h.msg) {
		if h.tag == "filterlog" {
			l.skip("malformed filterlog record", line)
		} else {
			l.skip("not a filterlog record", line)
		}
		return
	}
	vals := strings.Split(h.msg, ",")
	var proto string
	switch {
	case vals[8] == "4" && len(vals) > 16:
		proto = strings.ToLower(vals[16])
	case vals[8] == "6" && len(vals) > 12:
		proto = strings.ToLower(vals[12])
	}
	names := filterlogNames(vals[8], proto)
	if len(vals) < len(filterlogHead)+len(filterlogV4)-3*btoi(vals[8] == "6") {
		l.skip("short filterlog record", line)
		return
	}
	ev := l.newEvent()
	if h.stamp != "" {
		l.add("syslog_time", h.stamp)
	}
	r := l.addColumns(names, vals, "extra_")
	if h.stamp != "" {
		_, ev.Time, _ = parseStamp(h.stamp, l.clock)
	}
	ev.Host = h.host
	ev.SrcIP, ev.DstIP = cleanIP(r("src")), cleanIP(r("dst"))
	ev.SrcPort, ev.DstPort = atoi32(r("src_port")), atoi32(r("dst_port"))
	ev.Protocol = normProto(proto)
	if ev.Protocol == "" {
		ev.Protocol = normProto(r("proto_id"))
	}
	ev.Action = normAction(r("action"))
	switch r("direction") {
	case "out":
		ev.BytesOut = atoi64(r("length"))
	case "in":
		ev.BytesIn = atoi64(r("length"))
	}
	ev.Message = h.msg
	l.emit(ev)
}

// filterlogLayouts caches the column names per IP version and protocol.
var filterlogLayouts sync.Map // "4/tcp" → []string

func filterlogNames(ver, proto string) []string {
	key := ver + "/" + proto
	if v, ok := filterlogLayouts.Load(key); ok {
		return v.([]string)
	}
	names := append([]string(nil), filterlogHead...)
	if ver == "6" {
		names = append(names, filterlogV6...)
	} else {
		names = append(names, filterlogV4...)
	}
	if p, ok := filterlogProt[proto]; ok {
		names = append(names, p...)
		filterlogLayouts.Store(key, names) // only known protocols: the cache stays small
	}
	return names
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
