// Package winjson ingests Windows events that a collector or tool wrote as
// JSON instead of EVTX: NXLog's Windows event input (one flat object per
// event), the JSON rendering of EVTX by evtx_dump, Chainsaw and Hayabusa
// ({"Event":{"System":…,"EventData":…}}), winlogbeat and the Elastic Common
// Schema (winlog.*), and Velociraptor's EVTX artifact results. Each parser
// rebuilds the event record (System values, EventData/UserData fields) and
// hands it to package winevent, so the typed columns are those of an EVTX
// file holding the same event. Formats are detected from the first object,
// never from file names; JSONL, pretty-printed objects and a top-level
// array are all read.
package winjson

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/jsonobj"
	"github.com/spoor-dfir/spoor/internal/wallclock"
)

// Parsers is the list of the package's parsers, for the ingest driver's
// explicit list.
func Parsers() []input.Parser {
	return []input.Parser{NXLog{}, EvtxJSON{}, Winlogbeat{}, Velociraptor{}}
}

// head is the first JSON object of a file as detection sees it: decoded
// when it fits in the sniffed head, else only its raw text for key tests.
type head struct {
	obj *ordereddict.Dict
	raw []byte
}

func sniff(in *input.Input) (head, bool) {
	t := bytes.TrimLeft(in.Text, " \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		t = bytes.TrimLeft(t[1:], " \t\r\n")
	}
	if len(t) == 0 || t[0] != '{' {
		return head{}, false
	}
	h := head{raw: t}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.UseNumber()
	if tok, err := dec.Token(); err == nil && tok == json.Delim('{') {
		if o, err := jsonobj.ReadObject(dec, 1); err == nil {
			h.obj = o
		}
	}
	return h, true
}

// has reports whether the first object has top-level key k (or, when it
// could not be decoded from the head, whether "k": appears in its text).
func (h head) has(k string) bool {
	if h.obj != nil {
		_, ok := h.obj.Get(k)
		return ok
	}
	return bytes.Contains(h.raw, []byte(`"`+k+`":`)) || bytes.Contains(h.raw, []byte(`"`+k+`" :`))
}

// parseTime reads the time formats these exports use. A time with a zone
// or Z is exact; zoned reports whether it had one (a zone-less time is
// returned as if UTC, for the caller to place).
func parseTime(s string) (t time.Time, zoned bool, ok bool) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999 -0700"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true, true
		}
	}
	for _, l := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006/01/02 15:04:05.999999999", "01/02/2006 15:04:05"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, false, true
		}
	}
	return time.Time{}, false, false
}

// inZone places a zone-less wall time (parsed as UTC) in loc, under the
// wallclock policy (a repeated DST hour is its first occurrence: records
// are read one by one, without a file order to keep).
func inZone(t time.Time, loc *time.Location) time.Time {
	w, _ := wallclock.Resolve(t, loc, time.Time{})
	return w
}
