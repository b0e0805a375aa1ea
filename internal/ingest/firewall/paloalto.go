package firewall

import (
	"context"
	"encoding/csv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// PaloAlto reads PAN-OS syslog CSV records (TRAFFIC, THREAT, SYSTEM,
// CONFIG and others), with or without a syslog header. Columns are named
// after the PAN-OS 8–10 field lists; columns past the known list are
// kept as field_N. Times (generated time, else receive time, else the
// syslog header) are the firewall's wall clock, read in the zone set for
// "paloalto".
type PaloAlto struct{}

// Name implements input.Parser.
func (PaloAlto) Name() string { return "paloalto" }

var panCommon = []string{"future_use1", "receive_time", "serial", "type", "subtype", "future_use2", "generated_time"}

var panLayouts = map[string][]string{
	"TRAFFIC": append(append([]string(nil), panCommon...), strings.Split("src,dst,natsrc,natdst,rule,srcuser,dstuser,app,vsys,from,to,inbound_if,outbound_if,logset,future_use3,sessionid,repeatcnt,sport,dport,natsport,natdport,flags,proto,action,bytes,bytes_sent,bytes_received,packets,start,elapsed,category,future_use4,seqno,actionflags,srcloc,dstloc,future_use5,pkts_sent,pkts_received,session_end_reason,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4,vsys_name,device_name,action_source", ",")...),
	"THREAT":  append(append([]string(nil), panCommon...), strings.Split("src,dst,natsrc,natdst,rule,srcuser,dstuser,app,vsys,from,to,inbound_if,outbound_if,logset,future_use3,sessionid,repeatcnt,sport,dport,natsport,natdport,flags,proto,action,misc,threatid,category,severity,direction,seqno,actionflags,srcloc,dstloc,future_use4,contenttype,pcap_id,filedigest,cloud,url_idx,user_agent,filetype,xff,referer,sender,subject,recipient,reportid,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4,vsys_name,device_name", ",")...),
	"SYSTEM":  append(append([]string(nil), panCommon...), strings.Split("vsys,eventid,object,future_use3,future_use4,module,severity,opaque,seqno,actionflags,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4,vsys_name,device_name", ",")...),
	"CONFIG":  append(append([]string(nil), panCommon...), strings.Split("host,vsys,cmd,admin,client,result,path,before_change_detail,after_change_detail,seqno,actionflags,dg_hier_level_1,dg_hier_level_2,dg_hier_level_3,dg_hier_level_4,vsys_name,device_name", ",")...),
}

// The values PAN-OS writes; anything else (anonymised "xxxx") is left in
// Fields only.
var (
	panProtocols = map[string]bool{"tcp": true, "udp": true, "icmp": true, "icmpv6": true, "sctp": true, "gre": true, "esp": true, "ah": true, "igmp": true}
	panActions   = map[string]bool{"allow": true, "deny": true, "drop": true, "drop-icmp": true, "drop-all-packets": true, "reset-client": true, "reset-server": true, "reset-both": true, "block-url": true, "block-override": true, "block-continue": true, "alert": true, "continue": true, "override": true, "sinkhole": true, "block": true, "end": true, "start": true}
)

// panIndex maps column names to positions per record type ("" for the
// common columns only).
var panIndex = func() map[string]map[string]int {
	out := map[string]map[string]int{"": indexOf(panCommon)}
	for typ, names := range panLayouts {
		out[typ] = indexOf(names)
	}
	return out
}()

func indexOf(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for i, n := range names {
		if _, dup := m[n]; !dup {
			m[n] = i
		}
	}
	return m
}

// Detect implements input.Parser.
func (PaloAlto) Detect(in *input.Input) int {
	lines := headLines(in.Text, 50)
	n := share(lines, func(l string) bool { _, ok := panRecord(l); return ok })
	switch {
	case n >= 50:
		return 90
	case n > 0:
		return 60
	}
	return 0
}

// panRecord finds the CSV record in a line: "…,yyyy/mm/dd hh:mm:ss,serial,TYPE,".
func panRecord(line string) (string, bool) {
	h, _ := parseSyslog(line, nil)
	s := h.msg
	f := strings.SplitN(s, ",", 5)
	if len(f) < 4 || len(f[1]) != 19 || f[1][4] != '/' || f[1][7] != '/' || f[1][13] != ':' {
		return s, false
	}
	switch f[3] {
	case "TRAFFIC", "THREAT", "SYSTEM", "CONFIG", "HIP-MATCH", "GLOBALPROTECT", "USERID", "AUTHENTICATION", "DECRYPTION", "CORRELATION", "TUNNEL", "GTP", "SCTP", "IPTAG", "OTHERS":
		return s, true
	}
	return s, false
}

// Parse implements input.Parser.
func (p PaloAlto) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), panState{}, emit, st)
}

type panState struct{}

func (panState) handle(l *liner, line string) {
	if strings.TrimSpace(line) == "" {
		return
	}
	h, _ := parseSyslog(line, nil)
	rec, ok := panRecord(line)
	if !ok {
		l.skip("not a PAN-OS record", line)
		return
	}
	cr := csv.NewReader(strings.NewReader(rec))
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	vals, err := cr.Read()
	if err != nil || len(vals) < 4 {
		// a quote that swallows the type column: read it plainly
		vals = strings.Split(rec, ",")
	}
	names := panLayouts[vals[3]]
	if names == nil {
		names = panCommon
	}
	ev := l.newEvent()
	if h.stamp != "" {
		l.add("syslog_time", h.stamp)
	}
	for i, v := range vals {
		name := "field_" + itoa(i)
		if i < len(names) {
			name = names[i]
		}
		l.add(name, v)
	}
	idx := panIndex[vals[3]]
	if idx == nil {
		idx = panIndex[""]
	}
	r := func(name string) string {
		if i, ok := idx[name]; ok && i < len(vals) {
			return vals[i]
		}
		return ""
	}
	for _, k := range []string{"generated_time", "receive_time"} {
		if t := panTime(l, r(k)); !t.IsZero() {
			ev.Time = t
			break
		}
	}
	if ev.Time.IsZero() && h.stamp != "" {
		_, ev.Time, _ = parseStamp(h.stamp, l.clock)
	}
	ev.Host = r("device_name")
	if ev.Host == "" {
		ev.Host = h.host
	}
	ev.SrcIP, ev.DstIP = cleanIP(r("src")), cleanIP(r("dst"))
	ev.SrcPort, ev.DstPort = atoi32(r("sport")), atoi32(r("dport"))
	if p := normProto(r("proto")); panProtocols[p] {
		ev.Protocol = p
	}
	if a := r("action"); panActions[a] {
		ev.Action = normAction(a)
	} else if vals[3] == "TRAFFIC" && panActions[r("subtype")] {
		ev.Action = normAction(r("subtype"))
	}
	ev.BytesOut, ev.BytesIn = atoi64(r("bytes_sent")), atoi64(r("bytes_received"))
	ev.User = r("srcuser")
	ev.SessionID = r("sessionid")
	if ev.SessionID == "0" {
		ev.SessionID = ""
	}
	ev.Message = rec
	l.emit(ev)
}

// panTime reads "yyyy/mm/dd hh:mm:ss" in the source zone.
func panTime(l *liner, s string) (t time.Time) {
	if len(s) != 19 || s[4] != '/' || s[7] != '/' || !allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:10]) {
		return
	}
	h, mi, sec, ns, k := parseClock(s[11:])
	if k == 0 {
		return
	}
	t, _ = l.clock.local(atoi(s[:4]), atoi(s[5:7]), atoi(s[8:10]), h, mi, sec, ns)
	return t
}
