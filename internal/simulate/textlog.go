package simulate

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Text evidence: firewall and RMM-agent logs in their real layouts. The
// zone-less ones are written in the case zone's wall-clock time, which
// case.yaml's source_timezones declares.

const (
	relFortigate = "FW01/forward_traffic.log"
	relPfsense   = "FW02/filter.log"
	relRMMAudit  = "RMM/screenconnect-audit.jsonl"
	fgDevID      = "FG100FTK22034817"
)

func pfwRel(h string) string { return h + "/Windows/System32/LogFiles/Firewall/pfirewall.log" }

const pfwHeader = "#Version: 1.5\n#Software: Microsoft Windows Firewall\n#Time Format: Local\n#Fields: date time action protocol src-ip dst-ip src-port dst-port size tcpflags tcpsyn tcpack tcpwin icmptype icmpcode info path pid\n"

// pfw writes a Windows Firewall line (path SEND = outbound, RECEIVE = inbound).
func (g *gen) pfw(h *host, t time.Time, action, src, dst string, sport, dport int, path string, pid uint32) *entry {
	s := g.c.sink(pfwRel(h.name), false)
	s.header, s.crlf = pfwHeader, true
	lt := t.In(g.co.loc)
	return g.c.add(s.rel, t, nil, fmt.Sprintf("%s %s %s TCP %s %s %d %d 0 - 0 0 0 - - - %s %d",
		lt.Format("2006-01-02"), lt.Format("15:04:05"), action, src, dst, sport, dport, path, pid))
}

// flow is one outbound connection as the perimeter FortiGate logs it when
// the session closes.
type flow struct {
	src       *host
	srcIP     string
	sport     int
	dst       string
	dport     int
	start     time.Time
	dur       time.Duration
	sent, rcv int64
	service   string
	srcIntf   string
}

// fortigate writes the close record of a flow; its time is the close.
func (g *gen) fortigate(fl flow) *entry {
	g.fgSession += uint64(1 + g.r.IntN(40))
	end := fl.start.Add(fl.dur)
	lt := end.In(g.co.loc)
	intf, role, dintf, drole, policy, trans := fl.srcIntf, "lan", "wan1", "wan", 3, fmt.Sprintf(` trandisp="snat" transip=%s transport=%d`, wanIP, fl.sport)
	if intf == "" {
		intf = "servers"
		if fl.src != nil && !fl.src.server() {
			intf = "clients"
		}
	}
	if intf == "comtech-vpn" { // inbound tunnel traffic to a server: no NAT
		role, dintf, drole, policy, trans = "undefined", "servers", "lan", 7, ` trandisp="noop"`
	}
	srcIP := fl.srcIP
	if srcIP == "" {
		srcIP = fl.src.ip
	}
	service := fl.service
	if service == "" {
		service = "HTTPS"
	}
	pkts := func(b int64) int64 { return 1 + b/1300 }
	line := fmt.Sprintf(`date=%s time=%s devname="FW01" devid="%s" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=%s srcport=%d srcintf="%s" srcintfrole="%s" dstip=%s dstport=%d dstintf="%s" dstintfrole="%s" sessionid=%d proto=6 action="close" policyid=%d policytype="policy" service="%s" dstcountry="%s" srccountry="Reserved"%s duration=%d sentbyte=%d rcvdbyte=%d sentpkt=%d rcvdpkt=%d appcat="unscanned"`,
		lt.Format("2006-01-02"), lt.Format("15:04:05"), fgDevID, srcIP, fl.sport, intf, role, fl.dst, fl.dport, dintf, drole,
		g.fgSession, policy, service, country(fl.dst), trans, int(fl.dur/time.Second), fl.sent, fl.rcv, pkts(fl.sent), pkts(fl.rcv))
	return g.c.add(relFortigate, end, nil, line)
}

func country(ip string) string {
	switch {
	case strings.HasPrefix(ip, "10."):
		return "Reserved"
	case strings.HasPrefix(ip, "192.0.2.") || strings.HasPrefix(ip, "198.51.100."):
		return "Germany"
	case strings.HasPrefix(ip, "203.0.113."):
		return "Netherlands"
	}
	return "Ireland"
}

// pfsense writes a filterlog line of the VPN edge firewall (pfSense, which
// terminates ComTech's tunnel): the first packet of a connection.
func (g *gen) pfsense(t time.Time, iface, action, dir, src, dst string, sport, dport int) *entry {
	lt := t.In(g.co.loc)
	rule, tracker := 5, "1000000103"
	if action == "block" {
		rule, tracker = 2, "1000000104"
	}
	line := fmt.Sprintf("%s fw02 filterlog[41250]: %d,,,%s,%s,match,%s,%s,4,0x0,,64,%d,0,DF,6,tcp,60,%s,%s,%d,%d,0,S,%d,,64240,,mss;sackOK;TS;nop;wscale",
		lt.Format("Jan _2 15:04:05"), rule, tracker, iface, action, dir, g.r.IntN(65536), src, dst, sport, dport, g.r.Uint32())
	return g.c.add(relPfsense, t, nil, line)
}

// AnyDesk service trace: fixed-width columns, local time here.
func adRel(h string) string     { return h + "/ProgramData/AnyDesk/ad_svc.trace" }
func adConnRel(h string) string { return h + "/ProgramData/AnyDesk/connection_trace.txt" }

func (g *gen) adTrace(h *host, t time.Time, level, thread string, fiber, logger, msg string) *entry {
	s := g.c.sink(adRel(h.name), false)
	s.crlf = true
	lt := t.In(g.co.loc)
	return g.c.add(s.rel, t, nil, fmt.Sprintf("%7s %s %10s %6s %6d %6d %4s %32s - %s",
		level, lt.Format("2006-01-02 15:04:05.000"), "gsvc", thread, 3124, 3188, fiber, logger, msg))
}

func (g *gen) adConnection(h *host, t time.Time, auth, alias, id string) *entry {
	s := g.c.sink(adConnRel(h.name), false)
	s.crlf = true
	lt := t.In(g.co.loc)
	return g.c.add(s.rel, t, nil, fmt.Sprintf("Incoming    %s  %-6s  %s %s", lt.Format("2006-01-02, 15:04"), auth, alias, id))
}

// TeamViewer Connections_incoming.txt: tab-separated, one line per session
// (written when the session ends).
func tvRel(h string) string { return h + "/Program Files/TeamViewer/Connections_incoming.txt" }

func (g *gen) teamviewer(h *host, start, end time.Time, partnerID, partner, localUser string) *entry {
	ls, le := start.In(g.co.loc), end.In(g.co.loc)
	return g.c.add(tvRel(h.name), end, nil, fmt.Sprintf("%s\t%s\t%s\t%s\t%s\tRemoteControl\t{%s}\t",
		partnerID, partner, ls.Format("02-01-2006 15:04:05"), le.Format("02-01-2006 15:04:05"), localUser, uuid(g.r)))
}

// auditRecord is one line of the generic JSONL RMM audit export; the key
// order is the format's.
type auditRecord struct {
	Time      string `json:"time"`
	Tool      string `json:"tool"`
	Event     string `json:"event"`
	SessionID string `json:"session_id"`
	Operator  string `json:"operator"`
	SourceIP  string `json:"source_ip"`
	Host      string `json:"host"`
	Command   string `json:"command,omitempty"`
}

func (g *gen) audit(t time.Time, event, session, op, src, host, cmd string) *entry {
	b, _ := json.Marshal(auditRecord{Time: t.In(g.co.loc).Format("2006-01-02T15:04:05-07:00"), Tool: "screenconnect", Event: event,
		SessionID: session, Operator: op, SourceIP: src, Host: host, Command: cmd})
	return g.c.add(relRMMAudit, t, nil, string(b))
}
