package rmm

import (
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
)

// Remote-access providers whose Application-log events FromEVTX reads, by
// provider-name prefix (case-sensitive, as Windows writes them).
var evtxProviders = []struct {
	prefix, format string
}{
	{"ScreenConnect", "screenconnect"}, // "ScreenConnect Client (<instance id>)"
	{"ConnectWise Control", "screenconnect"},
	{"AnyDesk", "anydesk-evtx"},
	{"TeamViewer", "teamviewer-evtx"},
	{"Splashtop", "splashtop-evtx"},
	{"AteraAgent", "atera-evtx"},
	{"AlphaAgent", "atera-evtx"},
}

// FromEVTX returns a normalised RMM event for an EVTX event written by a
// remote-access agent (the ScreenConnect client above all), or false.
// The ingest driver calls it for every EVTX event, so a non-matching event
// costs one provider-prefix check.
//
// ScreenConnect logs one unnamed data string per event; the message text,
// not the event id, tells what happened, because older versions wrote
// everything under one id (FORMATS.md): "<name> connected",
// "<name> disconnected", "Executed command of length: <n>",
// "Transferred files with action '<action>': <files>".
func FromEVTX(ev *event.Event) (*event.Event, bool) {
	if ev == nil || ev.Provider == "" {
		return nil, false
	}
	// Nearly every EVTX event is from some other provider: one byte
	// decides for most of them.
	switch ev.Provider[0] {
	case 'S', 'C', 'A', 'T':
	default:
		return nil, false
	}
	format := ""
	for _, p := range evtxProviders {
		if strings.HasPrefix(ev.Provider, p.prefix) {
			format = p.format
			break
		}
	}
	if format == "" {
		return nil, false
	}
	if ev.Channel != "" && !strings.EqualFold(ev.Channel, "Application") && !strings.HasPrefix(ev.Channel, "Splashtop") {
		return nil, false
	}
	text := evtxText(ev)
	out := &event.Event{
		Time:     ev.Time,
		Source:   event.SourceRMM,
		Format:   format,
		Host:     ev.Host,
		Channel:  ev.Channel,
		Provider: ev.Provider,
		EventID:  ev.EventID,
		RecordID: ev.RecordID,
		Evidence: ev.Evidence,
		Offset:   ev.Offset,
		Message:  bound(text),
	}
	f := ordereddict.NewDict().Set("provider", ev.Provider).Set("event_id", int64(ev.EventID)).Set("text", text)
	out.Fields = f
	if i := strings.IndexByte(ev.Provider, '('); i >= 0 {
		// The instance id names the installation, not a session.
		f.Set("instance", strings.TrimSuffix(ev.Provider[i+1:], ")"))
	}
	if classifyRemoteText(out, text) {
		return out, true
	}
	// Splashtop's Operational log: 1000 connect, 1001 disconnect.
	if format == "splashtop-evtx" {
		switch ev.EventID {
		case 1000:
			out.Action = event.ActionSessionStart
		case 1001:
			out.Action = event.ActionSessionEnd
		}
	}
	if out.Action == "" {
		return nil, false
	}
	return out, true
}

// classifyRemoteText fills action/operator/command from a ScreenConnect-
// style message and says whether it recognised one.
func classifyRemoteText(out *event.Event, text string) bool {
	t := strings.TrimSpace(text)
	low := strings.ToLower(t)
	switch {
	case strings.HasPrefix(low, "executed command of length"):
		out.Action = event.ActionCommand
		// The client logs only the length, never the command itself.
		out.Fields.Set("command_length", strings.TrimSpace(t[strings.LastIndexByte(t, ':')+1:]))
		return true
	case strings.HasPrefix(low, "transferred files with action"):
		out.Action = event.ActionFileTransfer
		rest := t[len("transferred files with action"):]
		if i := strings.IndexByte(rest, '\''); i >= 0 {
			if j := strings.IndexByte(rest[i+1:], '\''); j >= 0 {
				out.Fields.Set("transfer_action", rest[i+1:i+1+j])
				files := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest[i+2+j:]), ":"))
				out.Fields.Set("files", files)
			}
		}
		return true
	case strings.HasSuffix(low, " disconnected"):
		out.Action = event.ActionSessionEnd
		out.Operator = strings.TrimSpace(t[:len(t)-len(" disconnected")])
		return true
	case strings.HasSuffix(low, " connected"):
		out.Action = event.ActionSessionStart
		out.Operator = strings.TrimSpace(t[:len(t)-len(" connected")])
		return true
	}
	return false
}

// evtxText is the event's data: the unnamed <Data> strings joined (the
// EVTX ingester names them Data, Data_2, …), else the rendered message.
func evtxText(ev *event.Event) string {
	if d := ev.FieldDict(); d != nil {
		var parts []string
		for _, it := range d.Items() {
			if it.Key == "Data" || strings.HasPrefix(it.Key, "Data_") {
				if s, ok := it.Value.(string); ok && s != "" {
					parts = append(parts, s)
				}
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, " ")
		}
	}
	return ev.Message
}
