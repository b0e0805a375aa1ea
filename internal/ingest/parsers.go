package ingest

import (
	"fmt"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// Parsers is the explicit list of built-in parsers, in detection order.
func Parsers() ([]input.Parser, error) {
	var ps []input.Parser
	return ps, nil
}

// derivers turn one event into an extra one of another source: the
// ScreenConnect client's Application events are also RMM session events.
var derivers []func(ev *event.Event) (*event.Event, bool)

// LoadFormats loads user-written declarative format definitions.
func LoadFormats(dir string) ([]input.Parser, error) {
	return nil, fmt.Errorf("--formats %s: declarative formats are not available yet", dir)
}
