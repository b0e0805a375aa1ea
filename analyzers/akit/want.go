package akit

import (
	"slices"
	"strings"
)

// Want is one kind of event an analyzer reads, as data (like a rule's
// pre-filter): the hunt reads it to decode only those rows and columns,
// and a test holds each analyzer's Observe to it.
type Want struct {
	// Source is an event.Source* value; "" is any source.
	Source string
	// Channel is the lower-cased channel exactly; ChannelHas a part of
	// it. Both "" is any channel.
	Channel, ChannelHas string
	// IDs are the event ids; none is any id.
	IDs []int32
	// Columns are the store columns Observe reads of such events; nil
	// is every column (raw fields then read with Event.Field).
	Columns []string
	// Tag names the kind for the analyzer's own use (its Observe may
	// dispatch on it, so the data is the code).
	Tag string
}

// Match reports whether an event of source, id and lower-cased channel
// is of this kind.
func (w *Want) Match(source string, id int32, lowerChannel string) bool {
	if w.Source != "" && w.Source != source {
		return false
	}
	if w.Channel != "" && w.Channel != lowerChannel {
		return false
	}
	if w.ChannelHas != "" && !strings.Contains(lowerChannel, w.ChannelHas) {
		return false
	}
	return len(w.IDs) == 0 || slices.Contains(w.IDs, id)
}

// Wants is everything an analyzer reads: the first Want an event
// matches decides.
type Wants []Want

// Find returns the first Want an event of source, id and lower-cased
// channel matches, or nil.
func (ws Wants) Find(source string, id int32, lowerChannel string) *Want {
	for i := range ws {
		if ws[i].Match(source, id, lowerChannel) {
			return &ws[i]
		}
	}
	return nil
}

// Columns is what the hunt decodes of an event of source, id and channel
// (any case) for the analyzer: nil when it does not read such events,
// Every for all columns.
func (ws Wants) Columns(source string, id int32, channel string) []string {
	w := ws.Find(source, id, strings.ToLower(channel))
	switch {
	case w == nil:
		return nil
	case w.Columns == nil:
		return Every
	}
	return w.Columns
}
