package firewall

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// Zeek reads Zeek (Bro) ASCII logs: TSV with "#separator", "#fields" and
// "#types" headers, any log path (conn, dns, ssh, rdp, smb_*, ntlm,
// kerberos, notice, …). Values are typed after #types (count/int/port →
// integers, double/interval → floats, bool → true/false, set/vector →
// lists, unset → null); Fields["_path"] and Channel name the log. Zeek
// times are epoch seconds, so no zone is assumed.
type Zeek struct{}

// Name implements input.Parser.
func (Zeek) Name() string { return "zeek" }

// Detect implements input.Parser.
func (Zeek) Detect(in *input.Input) int {
	t := string(in.Text)
	hasSep := strings.HasPrefix(t, "#separator ") || strings.Contains(t, "\n#separator ")
	hasFields := strings.Contains(t, "\n#fields\t")
	switch {
	case hasSep && hasFields:
		return 100
	case hasFields && strings.Contains(t, "\n#types\t"):
		return 90
	}
	return 0
}

// Parse implements input.Parser.
func (p Zeek) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), &zeekState{sep: "\t", setSep: ",", empty: "(empty)", unset: "-"}, emit, st)
}

type zeekState struct {
	sep, setSep, empty, unset string
	path                      string
	fields, types             []string
}

func (s *zeekState) handle(l *liner, line string) {
	if line == "" {
		return
	}
	if line[0] == '#' {
		s.header(line)
		return
	}
	if s.fields == nil {
		l.skip("record before #fields header", line)
		return
	}
	vals := strings.Split(line, s.sep)
	if len(vals) != len(s.fields) {
		l.skip("wrong number of columns", line)
		return
	}
	ev := l.newEvent()
	ev.Channel = s.path
	l.add("_path", s.path)
	for i, name := range s.fields {
		typ := ""
		if i < len(s.types) {
			typ = s.types[i]
		}
		l.add(name, s.value(vals[i], typ))
	}
	if t, ok := epochTime(ev.Field("ts")); ok {
		ev.Time = t
	}
	zeekTyped(ev, s.path)
	ev.Message = line
	l.emit(ev)
}

func (s *zeekState) header(line string) {
	key, val, _ := strings.Cut(line[1:], s.sep)
	if strings.HasPrefix(line, "#separator ") {
		key, val = "separator", line[len("#separator "):]
	}
	switch key {
	case "separator":
		if v := zeekUnescape(strings.TrimSpace(val)); v != "" {
			s.sep = v
		}
	case "set_separator":
		s.setSep = val
	case "empty_field":
		s.empty = val
	case "unset_field":
		s.unset = val
	case "path":
		s.path = val
	case "fields":
		s.fields = strings.Split(val, s.sep)
		s.types = nil
	case "types":
		s.types = strings.Split(val, s.sep)
	}
}

// value converts one column after its Zeek type.
func (s *zeekState) value(v, typ string) any {
	if v == s.unset {
		return nil
	}
	switch {
	case strings.HasPrefix(typ, "set[") || strings.HasPrefix(typ, "vector["):
		if v == s.empty {
			return []string{}
		}
		parts := strings.Split(v, s.setSep)
		for i := range parts {
			parts[i] = zeekUnescape(parts[i])
		}
		return parts
	case typ == "count" || typ == "int" || typ == "port":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case typ == "double" || typ == "interval":
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case typ == "bool":
		switch v {
		case "T":
			return true
		case "F":
			return false
		}
	case typ == "string":
		if v == s.empty {
			return ""
		}
	}
	return zeekUnescape(v)
}

// zeekUnescape undoes Zeek's \xHH and \\ escapes.
func zeekUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if s[i+1] == '\\' {
				b.WriteByte('\\')
				i++
				continue
			}
			if s[i+1] == 'x' && i+3 < len(s) {
				if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
					b.WriteByte(byte(n))
					i += 3
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// zeekTyped fills the typed columns from the well-known Zeek field names.
func zeekTyped(ev *event.Event, path string) {
	f := ev.Field
	ev.SrcIP, ev.DstIP = cleanIP(f("id.orig_h")), cleanIP(f("id.resp_h"))
	ev.SrcPort, ev.DstPort = atoi32(f("id.orig_p")), atoi32(f("id.resp_p"))
	ev.Protocol = normProto(f("proto"))
	if ev.Protocol == "" {
		ev.Protocol = normProto(f("port_proto"))
	}
	if ev.SrcIP == "" && path == "known_services" {
		ev.DstIP, ev.DstPort = cleanIP(f("host")), atoi32(f("port_num"))
	}
	ev.BytesOut, ev.BytesIn = atoi64(f("orig_bytes")), atoi64(f("resp_bytes"))
	ev.SessionID = f("uid")
	switch path {
	case "conn":
		switch f("conn_state") {
		case "REJ":
			ev.Action = event.ActionReject
		case "S0":
			ev.Action = "attempt"
		case "":
		default:
			ev.Action = event.ActionClose
		}
	case "notice":
		ev.Action = "alert"
	case "ntlm", "kerberos":
		ev.User = f("username")
		if ev.User == "" {
			ev.User = f("client")
		}
		ev.Action = successWord(f("success"))
	case "ssh":
		ev.Action = successWord(f("auth_success"))
	case "rdp":
		ev.Action = strings.ToLower(f("result"))
		ev.User = f("cookie")
	case "smb_files":
		ev.Action = strings.ToLower(strings.TrimPrefix(f("action"), "SMB::"))
	}
}

func successWord(v string) string {
	switch v {
	case "true", "T":
		return "success"
	case "false", "F":
		return "failure"
	}
	return ""
}

// ZeekJSON reads Zeek logs written as JSON lines (LogAscii::use_json),
// any log path; the path comes from "_path" when Zeek wrote it, else from
// the fields (conn_state → conn). ts may be epoch seconds or ISO 8601.
type ZeekJSON struct{}

// Name implements input.Parser.
func (ZeekJSON) Name() string { return "zeek-json" }

// Detect implements input.Parser.
func (ZeekJSON) Detect(in *input.Input) int {
	lines := headLines(in.Text, 50)
	n := share(lines, isZeekJSON)
	switch {
	case n >= 50:
		return 90
	case n > 0:
		return 50
	}
	return 0
}

func isZeekJSON(l string) bool {
	l = strings.TrimSpace(l)
	return strings.HasPrefix(l, "{") && strings.Contains(l, `"ts":`) &&
		(strings.Contains(l, `"uid":`) || strings.Contains(l, `"id.orig_h":`) || strings.Contains(l, `"_path":`))
}

// Parse implements input.Parser.
func (p ZeekJSON) Parse(ctx context.Context, in *input.Input, emit func(*event.Event) error, st *input.Stats) error {
	return runLines(ctx, in, p.Name(), zeekJSONState{}, emit, st)
}

type zeekJSONState struct{}

// maxJSONDepth bounds nesting so a hostile line cannot exhaust the stack.
const maxJSONDepth = 32

func (zeekJSONState) handle(l *liner, line string) {
	t := strings.TrimSpace(line)
	if t == "" {
		return
	}
	if t[0] != '{' {
		l.skip("not a JSON object", line)
		return
	}
	d, err := decodeObject(t)
	if err != nil {
		l.skip("bad JSON", line)
		return
	}
	ev := l.newEvent()
	ev.Fields = d
	path := ev.Field("_path")
	if path == "" {
		path = zeekPathFromName(l.in.Path)
	}
	if path == "" {
		if _, ok := d.Get("conn_state"); ok {
			path = "conn"
		}
	}
	ev.Channel = path
	if ts, ok := d.Get("ts"); ok {
		switch v := ts.(type) {
		case json.Number:
			ev.Time, _ = epochTime(v.String())
		case int64:
			ev.Time = time.Unix(v, 0).UTC()
		case string:
			if tm, n, zoned, good := parseISO(v, l.clock); n == len(v) && zoned && good {
				ev.Time = tm
			} else if tm, err := time.Parse(time.RFC3339Nano, v); err == nil {
				ev.Time = tm
			}
		}
	}
	zeekTyped(ev, path)
	ev.Message = t
	l.emit(ev)
}

var zeekLogNames = map[string]bool{
	"conn": true, "dns": true, "http": true, "ssl": true, "x509": true, "files": true, "ssh": true,
	"rdp": true, "rfb": true, "smb_files": true, "smb_mapping": true, "ntlm": true, "kerberos": true,
	"dce_rpc": true, "notice": true, "weird": true, "known_services": true, "known_hosts": true,
	"capture_loss": true, "dhcp": true, "ftp": true, "smtp": true, "sip": true, "snmp": true,
	"software": true, "tunnel": true, "pe": true, "intel": true, "socks": true, "syslog": true,
	"ocsp": true, "radius": true, "mysql": true, "dpd": true, "ntp": true, "quic": true,
}

// zeekPathFromName reads the log path from a Zeek file name such as
// "conn.log", "conn.00:00:00-01:00:00.log.gz" or "ssh.log.json".
func zeekPathFromName(p string) string {
	base := p
	if i := strings.LastIndexAny(base, "/\\"); i >= 0 {
		base = base[i+1:]
	}
	name, _, _ := strings.Cut(base, ".")
	if zeekLogNames[name] {
		return name
	}
	return ""
}

// decodeObject reads one JSON object into an ordered dict, keeping key
// order and exact numbers: integers become int64, other numbers stay
// json.Number (so Zeek's microsecond timestamps are not rounded).
func decodeObject(s string) (*ordereddict.Dict, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	obj, err := decodeRest(dec, '{', 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return obj.(*ordereddict.Dict), nil
}

// decodeRest reads the members of an object or array whose opening
// delimiter has been read.
func decodeRest(dec *json.Decoder, open json.Delim, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("JSON nested too deep")
	}
	var d *ordereddict.Dict
	var fw fieldWriter
	var arr []any
	if open == '{' {
		d = ordereddict.NewDict()
		fw.reset(d)
	} else {
		arr = []any{}
	}
	for dec.More() {
		var key string
		if d != nil {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := tok.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			key = k
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v any
		switch x := tok.(type) {
		case json.Delim:
			if v, err = decodeRest(dec, x, depth+1); err != nil {
				return nil, err
			}
		case json.Number:
			if n, err := x.Int64(); err == nil {
				v = n
			} else {
				v = x
			}
		default:
			v = x
		}
		if d != nil {
			fw.add(key, v)
		} else {
			arr = append(arr, v)
		}
	}
	if _, err := dec.Token(); err != nil { // closing delimiter
		return nil, err
	}
	if d != nil {
		return d, nil
	}
	return arr, nil
}
