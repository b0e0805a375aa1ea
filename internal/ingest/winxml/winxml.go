// Package winxml ingests Windows events exported as XML: `wevtutil qe
// /f:xml` (one <Event> after another, no root element), Event Viewer's
// "Save as XML" and Get-WinEvent's ToXml() (<Events><Event>…</Events>,
// often UTF-16), libevtx's evtxexport -f xml, with or without
// RenderingInfo. Each <Event> becomes a record as the EVTX decoder builds
// it and goes through package winevent, so the typed columns are those of
// the EVTX file the export came from.
package winxml

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/winevent"
)

// Parser is the Windows event XML ingester.
type Parser struct{}

// New returns the parser.
func New() Parser { return Parser{} }

// Name implements input.Parser.
func (Parser) Name() string { return "evtx-xml" }

const eventNS = "http://schemas.microsoft.com/win/2004/08/events/event"

// Detect implements input.Parser: an <Event> with a <System> section in
// the head; surer with the event namespace, less sure when text precedes
// the first element (evtxexport prints a banner line).
func (Parser) Detect(in *input.Input) int {
	t := in.Text
	i := bytes.Index(t, []byte("<Event"))
	if i < 0 || !bytes.Contains(t, []byte("<System>")) {
		return 0
	}
	score := 80
	if bytes.Contains(t, []byte(eventNS)) {
		score = 95
	}
	pre := bytes.TrimSpace(t[:i])
	if len(pre) > 0 && pre[0] != '<' {
		score -= 30
	}
	return score
}

// Parse implements input.Parser.
func (p Parser) Parse(ctx context.Context, in *input.Input, emit func(ev *event.Event) error, st *input.Stats) error {
	rc, err := in.Open()
	if err != nil {
		return &input.ParseError{File: in.Path, Err: err}
	}
	defer rc.Close()
	// UTF-16 (Event Viewer writes it) becomes UTF-8 here, so the charset
	// the XML declaration names must not be applied again.
	r := transform.NewReader(rc, unicode.BOMOverride(unicode.UTF8.NewDecoder()))
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.CharsetReader = charsetReader
	var rec binxml.Record
	var ev event.Event
	for n := int64(1); ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return &input.ParseError{File: in.Path, Offset: off, Err: err}
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Event" {
			continue
		}
		var e node
		if err := dec.DecodeElement(&e, &se); err != nil {
			// XML cannot be read on after a syntax error: the event is
			// counted, and the error (with its offset) ends the file.
			st.Skip("bad XML", "")
			return &input.ParseError{File: in.Path, Offset: off, Err: fmt.Errorf("event %d: %w", n, err)}
		}
		rec.Reset()
		if !record(&e, &rec) {
			st.Skip("no System section", fmt.Sprintf("%s@%d: event %d has no <System>", in.Path, off, n))
			n++
			continue
		}
		winevent.ToEvent(&rec, p.Name(), in.Path, &ev)
		ev.Offset = off
		if err := emit(&ev); err != nil {
			return err
		}
		st.Records++
		st.Saw(ev.Time)
		n++
	}
}

func charsetReader(label string, r io.Reader) (io.Reader, error) {
	l := strings.ToLower(label)
	if l == "utf-8" || strings.HasPrefix(l, "utf-16") || l == "unicode" {
		return r, nil
	}
	enc, err := ianaindex.IANA.Encoding(label)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("unsupported charset %q", label)
	}
	return transform.NewReader(r, enc.NewDecoder()), nil
}

// node is one XML element, kept whole.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []node     `xml:",any"`
}

func (e *node) attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Local == name && a.Name.Space != "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}

func (e *node) child(name string) *node {
	for i := range e.Children {
		if e.Children[i].XMLName.Local == name {
			return &e.Children[i]
		}
	}
	return nil
}

func isNS(a xml.Attr) bool { return a.Name.Space == "xmlns" || a.Name.Local == "xmlns" }

// record builds r from an <Event> element the way the EVTX decoder does;
// false when it has no System section.
func record(e *node, r *binxml.Record) bool {
	sys := e.child("System")
	if sys == nil {
		return false
	}
	system(sys, r)
	for i := range e.Children {
		sec := &e.Children[i]
		switch sec.XMLName.Local {
		case "System":
		case "EventData":
			eventData(sec, r)
		case "UserData":
			for j := range sec.Children {
				root := &sec.Children[j]
				for _, a := range root.Attrs {
					if !isNS(a) {
						r.Fields = addUnique(r.Fields, a.Name.Local, a.Value)
					}
				}
				r.Fields = collect(r.Fields, root.Children)
			}
		case "RenderingInfo":
			if m := sec.child("Message"); m != nil {
				r.Message = m.Text
			}
		default:
			if len(sec.Children) > 0 {
				r.Fields = collect(r.Fields, sec.Children)
			} else {
				r.Fields = addUnique(r.Fields, sec.XMLName.Local, sec.Text)
			}
		}
	}
	return true
}

func system(sys *node, r *binxml.Record) {
	for i := range sys.Children {
		c := &sys.Children[i]
		txt := strings.TrimSpace(c.Text)
		switch c.XMLName.Local {
		case "Provider":
			r.Provider, _ = c.attr("Name")
			r.ProviderGUID, _ = c.attr("Guid")
			r.EventSourceName, _ = c.attr("EventSourceName")
		case "EventID":
			r.EventID = int32(num(txt))
			if q, ok := c.attr("Qualifiers"); ok {
				r.Qualifiers = int32(num(q))
			}
		case "Version":
			r.Version = int32(num(txt))
		case "Level":
			r.Level = int32(num(txt))
		case "Task":
			r.Task = int32(num(txt))
		case "Opcode":
			r.Opcode = int32(num(txt))
		case "Keywords":
			r.Keywords = txt
		case "TimeCreated":
			if s, ok := c.attr("SystemTime"); ok {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					r.Time = t.UTC()
				}
			}
		case "EventRecordID":
			r.RecordID = uint64(num(txt))
		case "Correlation":
			r.ActivityID, _ = c.attr("ActivityID")
			r.RelatedActivity, _ = c.attr("RelatedActivityID")
		case "Execution":
			pid, _ := c.attr("ProcessID")
			tid, _ := c.attr("ThreadID")
			r.ProcessID, r.ThreadID = uint32(num(pid)), uint32(num(tid))
		case "Channel":
			r.Channel = txt
		case "Computer":
			r.Computer = txt
		case "Security":
			r.UserID, _ = c.attr("UserID")
		}
	}
}

func num(s string) int64 {
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return n
	}
	if n, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(n)
	}
	return 0
}

// eventData adds EventData's attributes and Data elements: named ones by
// Name, unnamed ones as Data, Data_2, … (the EVTX decoder's names).
func eventData(ed *node, r *binxml.Record) {
	for _, a := range ed.Attrs {
		if !isNS(a) {
			r.Fields = addUnique(r.Fields, a.Name.Local, a.Value)
		}
	}
	unnamed := 0
	prev := ""
	for i := range ed.Children {
		c := &ed.Children[i]
		name := c.XMLName.Local
		if name == "Data" {
			if n, ok := c.attr("Name"); ok && n != "" {
				name = n
				if name == prev && len(c.Children) == 0 {
					r.Fields = appendItem(r.Fields, c.Text)
					continue
				}
				prev = name
			} else {
				unnamed++
				if unnamed > 1 {
					name = "Data_" + strconv.Itoa(unnamed)
				}
			}
		}
		r.Fields = addUnique(r.Fields, name, value(c))
	}
}

// value is an element's content as a field value: its text, or nested
// fields when it holds elements.
func value(e *node) any {
	if len(e.Children) > 0 {
		return collect(nil, e.Children)
	}
	return e.Text
}

// collect adds each element as a field, as the EVTX decoder does for
// UserData and nested data: Data by its Name, an empty element carrying
// only attributes as nested fields of them.
func collect(dst []binxml.Field, content []node) []binxml.Field {
	prev := ""
	for i := range content {
		e := &content[i]
		name := e.XMLName.Local
		if name == "Data" {
			if n, ok := e.attr("Name"); ok && n != "" {
				name = n
			}
		}
		if name == prev && len(e.Children) == 0 && len(e.Attrs) == 0 {
			dst = appendItem(dst, e.Text)
			continue
		}
		prev = name
		var v any
		attrs := 0
		for _, a := range e.Attrs {
			if !isNS(a) && a.Name.Local != "Name" {
				attrs++
			}
		}
		switch {
		case len(e.Children) > 0:
			v = value(e)
		case attrs > 0 && strings.TrimSpace(e.Text) == "":
			var sub []binxml.Field
			for _, a := range e.Attrs {
				if !isNS(a) {
					sub = append(sub, binxml.Field{Name: a.Name.Local, Value: a.Value})
				}
			}
			v = sub
		default:
			v = e.Text
		}
		dst = addUnique(dst, name, v)
	}
	return dst
}

// appendItem adds text to the last field, which becomes a list: Windows
// writes an array value as the element repeated once per item, which the
// EVTX decoder reads as one field holding a list.
func appendItem(dst []binxml.Field, text string) []binxml.Field {
	last := &dst[len(dst)-1]
	switch v := last.Value.(type) {
	case string:
		last.Value = []string{v, text}
	case []string:
		last.Value = append(v, text)
	default:
		return addUnique(dst, last.Name, text)
	}
	return dst
}

// addUnique appends name=v, renaming repeats name_2, name_3, … as the EVTX
// decoder does, so no value is lost in the fields dictionary.
func addUnique(dst []binxml.Field, name string, v any) []binxml.Field {
	if has(dst, name) {
		for i := 2; ; i++ {
			n := name + "_" + strconv.Itoa(i)
			if !has(dst, n) {
				name = n
				break
			}
		}
	}
	return append(dst, binxml.Field{Name: name, Value: v})
}

func has(fs []binxml.Field, name string) bool {
	for i := range fs {
		if fs[i].Name == name {
			return true
		}
	}
	return false
}
