package ingest

import (
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx"
	"github.com/spoor-dfir/spoor/internal/ingest/firewall"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/rmm"
	"github.com/spoor-dfir/spoor/internal/ingest/textfmt"
	"github.com/spoor-dfir/spoor/internal/ingest/winjson"
	"github.com/spoor-dfir/spoor/internal/ingest/winxml"
)

// Parsers is the explicit list of built-in parsers. Order only breaks
// ties in detection (which are reported); confidence decides.
func Parsers() ([]input.Parser, error) {
	ps := []input.Parser{evtx.New()}
	ps = append(ps, firewall.Parsers()...)
	ps = append(ps, rmm.Parsers()...)
	ps = append(ps, winjson.Parsers()...)
	ps = append(ps, winxml.New())
	defs, err := textfmt.Builtin()
	if err != nil {
		return nil, err
	}
	return append(ps, defs...), nil
}

// derivers turn one event into an extra one of another source: the
// ScreenConnect client's Application events are also RMM session events.
var derivers = []func(ev *event.Event) (*event.Event, bool){rmm.FromEVTX}

// LoadFormats loads user-written declarative format definitions.
func LoadFormats(dir string) ([]input.Parser, error) {
	return textfmt.LoadDir(dir)
}
