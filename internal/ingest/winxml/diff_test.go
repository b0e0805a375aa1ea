package winxml_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// The differential tests: events of shared sample EVTX files, exported as
// wevtutil and Event Viewer write them (rendered here) and by libevtx's
// evtxexport (where installed), ingest to the EVTX ingester's events,
// column by column and field by field. Windows writes an array value as
// its element repeated once per item; the renderer does too. XML cannot
// say that an unnamed Data or an element was an array of one item or of
// none (no Name to tie the repeats together), so the reference is adjusted
// for those: an unnamed list becomes Data, Data_2, …; a one-item list its
// item; an empty list "".

var reUnnamed = regexp.MustCompile(`^Data(_\d+)?$`)

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, "\n")
	}
	return fmt.Sprint(v)
}

func elems(b *strings.Builder, d *ordereddict.Dict) {
	for _, it := range d.Items() {
		if sub, ok := it.Value.(*ordereddict.Dict); ok {
			fmt.Fprintf(b, "<%s>", it.Key)
			elems(b, sub)
			fmt.Fprintf(b, "</%s>", it.Key)
			continue
		}
		for _, item := range items(it.Value) {
			fmt.Fprintf(b, "<%s>%s</%s>", it.Key, esc(item), it.Key)
		}
	}
}

// items are the texts of a value, one per element Windows writes.
func items(v any) []string {
	if l, ok := v.([]string); ok {
		if len(l) == 0 {
			return []string{""}
		}
		return l
	}
	return []string{textOf(v)}
}

func nested(d *ordereddict.Dict) bool {
	for _, it := range d.Items() {
		if _, ok := it.Value.(*ordereddict.Dict); ok {
			return true
		}
	}
	return false
}

// eventXML renders one event as Windows does; message adds RenderingInfo.
func eventXML(ev *event.Event, message string) string {
	var b strings.Builder
	b.WriteString(`<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>`)
	fmt.Fprintf(&b, `<Provider Name='%s' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/>`, esc(ev.Provider))
	fmt.Fprintf(&b, `<EventID>%d</EventID><Version>0</Version><Level>%d</Level><Task>%d</Task><Opcode>%d</Opcode><Keywords>%s</Keywords>`,
		ev.EventID, ev.Level.V, ev.Task.V, ev.Opcode.V, esc(ev.Keywords))
	fmt.Fprintf(&b, `<TimeCreated SystemTime='%s'/>`, ev.Time.UTC().Format("2006-01-02T15:04:05.0000000Z"))
	fmt.Fprintf(&b, `<EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID='%d' ThreadID='%d'/>`,
		ev.RecordID, ev.SystemProcessID.V, ev.SystemThreadID.V)
	fmt.Fprintf(&b, `<Channel>%s</Channel><Computer>%s</Computer>`, esc(ev.Channel), esc(ev.Host))
	if ev.SystemUserSID != "" {
		fmt.Fprintf(&b, `<Security UserID='%s'/></System>`, esc(ev.SystemUserSID))
	} else {
		b.WriteString(`<Security/></System>`)
	}
	if nested(ev.Fields) {
		b.WriteString(`<UserData><EventXML xmlns='Event_NS'>`)
		elems(&b, ev.Fields)
		b.WriteString(`</EventXML></UserData>`)
	} else {
		b.WriteString(`<EventData>`)
		for _, it := range ev.Fields.Items() {
			for _, item := range items(it.Value) {
				if reUnnamed.MatchString(it.Key) {
					fmt.Fprintf(&b, `<Data>%s</Data>`, esc(item))
				} else {
					fmt.Fprintf(&b, `<Data Name='%s'>%s</Data>`, esc(it.Key), esc(item))
				}
			}
		}
		b.WriteString(`</EventData>`)
	}
	if message != "" {
		fmt.Fprintf(&b, `<RenderingInfo Culture='en-US'><Message>%s</Message><Level>Information</Level><Task>Logon</Task><Opcode>Info</Opcode><Channel>%s</Channel><Provider>Microsoft Windows security auditing.</Provider><Keywords><Keyword>Audit Success</Keyword></Keywords></RenderingInfo>`, esc(message), esc(ev.Channel))
	}
	b.WriteString(`</Event>`)
	return b.String()
}

func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := []byte{0xff, 0xfe}
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}

// adjust is the reference as XML can carry it (see the top of the file).
func adjust(ev *event.Event) *event.Event {
	c := *ev
	c.Fields = listsAsXML(ev.Fields)
	return &c
}

func listsAsXML(d *ordereddict.Dict) *ordereddict.Dict {
	out := ordereddict.NewDict()
	unnamed := 0
	for _, it := range d.Items() {
		switch v := it.Value.(type) {
		case []string:
			if reUnnamed.MatchString(it.Key) {
				for _, item := range items(v) {
					unnamed++
					name := "Data"
					if unnamed > 1 {
						name = "Data_" + strconv.Itoa(unnamed)
					}
					out.Set(name, item)
				}
				continue
			}
			switch len(v) {
			case 0:
				out.Set(it.Key, "")
			case 1:
				out.Set(it.Key, v[0])
			default:
				out.Set(it.Key, v)
			}
		case *ordereddict.Dict:
			out.Set(it.Key, listsAsXML(v))
		default:
			if reUnnamed.MatchString(it.Key) {
				unnamed++
				name := "Data"
				if unnamed > 1 {
					name = "Data_" + strconv.Itoa(unnamed)
				}
				out.Set(name, v)
				continue
			}
			out.Set(it.Key, v)
		}
	}
	return out
}

// xmlSafe leaves out events with characters XML 1.0 cannot carry (NUL
// and other control characters of damaged records): no XML export has
// them either.
func xmlSafe(t *testing.T, evs []*event.Event) []*event.Event {
	var out []*event.Event
	for _, ev := range evs {
		s := ev.Provider + ev.Channel + ev.Host + ev.Message
		for _, it := range ev.Fields.Items() {
			s += it.Key + textOf(it.Value)
		}
		if strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF
		}) {
			continue
		}
		out = append(out, ev)
	}
	if len(out) < len(evs) {
		t.Logf("%d of %d events have characters XML cannot carry; left out", len(evs)-len(out), len(evs))
	}
	return out
}

func compare(t *testing.T, want, got []*event.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d", len(got), len(want))
	}
	bad := 0
	for i := range want {
		if d := ingesttest.DiffEvent(want[i], got[i]); d != "" {
			bad++
			if bad <= 5 {
				t.Errorf("event %d (record %d, id %d): %s", i, want[i].RecordID, want[i].EventID, d)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d events differ", bad, len(want))
	}
}

func parse(t *testing.T, data []byte, name string) []*event.Event {
	t.Helper()
	parsers, err := ingest.Parsers()
	if err != nil {
		t.Fatal(err)
	}
	in := ingesttest.Input(data, name, nil)
	p := ingesttest.Detect(t, parsers, in)
	if p == nil || p.Name() != "evtx-xml" {
		t.Fatalf("detected as %v, want evtx-xml", p)
	}
	got, st := ingesttest.ParseAll(t, p, in)
	if st.Skipped != 0 {
		t.Errorf("%d skipped: %s", st.Skipped, st.ReasonList())
	}
	return got
}

func TestDifferentialRendered(t *testing.T) {
	for _, rel := range ingesttest.WindowsSamples {
		ref := ingesttest.EVTXEvents(t, rel)
		t.Run("wevtutil/"+rel, func(t *testing.T) {
			var b strings.Builder
			var want []*event.Event
			for _, ev := range xmlSafe(t, ref) {
				b.WriteString(eventXML(ev, ev.Message))
				want = append(want, adjust(ev))
			}
			compare(t, want, parse(t, []byte(b.String()), rel+".xml"))
		})
		t.Run("eventviewer-utf16/"+rel, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("<?xml version=\"1.0\" encoding=\"utf-16\"?>\r\n<Events>")
			var want []*event.Event
			for i, ev := range xmlSafe(t, ref) {
				msg := "Rendered message " + strconv.Itoa(i) + " <&> of " + ev.Provider
				b.WriteString(eventXML(ev, msg))
				b.WriteString("\r\n")
				w := adjust(ev)
				w.Message = msg
				want = append(want, w)
			}
			b.WriteString("</Events>")
			compare(t, want, parse(t, utf16LE(b.String()), rel+".xml"))
		})
	}
}

// TestDifferentialEvtxexport: libevtx's own XML export of each sample
// (an independent implementation) ingests to the same events as the EVTX
// file, matched by record id. libevtx writes some values differently from
// Windows and spoor, and both sides are normalised for exactly those:
// zero-padded hex (0x00000000000003e7 for 0x3e7), nine-digit fractions in
// time values, raw CR LF (which every XML reader turns into LF),
// whitespace-only values as empty elements, array
// values as repeated elements and no Binary element (so unnamed Data and
// Binary are left out of the comparison). libevtx also drops records the
// EVTX ingester recovers from damaged chunks; those are not compared.
func TestDifferentialEvtxexport(t *testing.T) {
	bin, err := exec.LookPath("evtxexport")
	if err != nil {
		t.Skip("evtxexport (Debian libevtx-utils) not installed")
	}
	for _, rel := range ingesttest.WindowsSamples {
		t.Run(rel, func(t *testing.T) {
			ref := ingesttest.EVTXEvents(t, rel)
			out, err := exec.Command(bin, "-f", "xml", testutil.Shared(t, "samples", "evtx", rel)).Output()
			if err != nil && len(out) == 0 {
				t.Fatalf("evtxexport: %v", err)
			}
			got := parse(t, out, rel+".xml")
			byID := map[int64]*event.Event{}
			for _, ev := range ref {
				byID[ev.RecordID] = ev
			}
			var want, have []*event.Event
			for _, g := range got {
				if w, ok := byID[g.RecordID]; ok {
					want, have = append(want, libevtxNorm(adjust(w))), append(have, libevtxNorm(g))
				}
			}
			if len(have) < len(got)*9/10 || len(have) < len(ref)*9/10 {
				t.Fatalf("only %d of %d exported events (%d in the EVTX) match a record id", len(have), len(got), len(ref))
			}
			compare(t, want, have)
		})
	}
}

var (
	reHex  = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	reTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`)
)

func norm(s string) string {
	switch {
	case reHex.MatchString(s):
		if n, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
			return "0x" + strconv.FormatUint(n, 16)
		}
	case reTime.MatchString(s):
		if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return tm.UTC().Format(time.RFC3339Nano)
		}
	}
	if strings.TrimSpace(s) == "" {
		return "" // libevtx writes whitespace-only values as empty elements
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}

func libevtxNorm(ev *event.Event) *event.Event {
	c := *ev
	c.LogonID = norm(c.LogonID)
	c.Fields = ordereddict.NewDict()
	for _, it := range ev.Fields.Items() {
		if reUnnamed.MatchString(it.Key) || it.Key == "Binary" {
			continue
		}
		if v, ok := it.Value.(string); ok {
			c.Fields.Set(it.Key, norm(v))
			continue
		}
		c.Fields.Set(it.Key, it.Value)
	}
	return &c
}
