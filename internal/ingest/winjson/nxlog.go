package winjson

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/winevent"
)

// NXLog reads NXLog's im_msvistalog output as JSON (to_json()), as SIEM
// forwarders and log archives keep it, possibly passed through Logstash
// (@timestamp, @version, host, port, tags): one flat object per event with
// the System values under NXLog's names (EventID, SourceName, Hostname,
// EventTime, RecordNumber, …) and the EventData fields beside them under
// their own names.
//
// Time: EventTime is the event's own creation time, but NXLog writes it in
// the collecting host's local time without a zone. When the object also
// has @timestamp (the UTC time Logstash received it, seconds later),
// EventTime's offset is taken from the two, to the nearest quarter hour,
// per event (so DST changes inside a file are right); the event keeps
// @timestamp's sub-second precision when both fall in the same second.
// Without @timestamp, a zone-less EventTime is read in the case's
// source_timezones zone for "nxlog-json" (default UTC) and noted.
// Exports without EventTime use @timestamp, then TimeCreated.
//
// Fields: NXLog's System and collector keys are not EventData and are left
// out of Fields, as an EVTX file's System section is. AccountName, Domain
// and AccountType are NXLog's resolution of System/Security/@UserID when
// AccountType is present (the EventData field of the same name, e.g.
// 7045's AccountName, is then lost by NXLog itself, not by spoor).
type NXLog struct{}

// Name implements input.Parser.
func (NXLog) Name() string { return "nxlog-json" }

// Detect implements input.Parser: a flat object with an EventID, the
// channel and NXLog's Hostname (SourceName, EventTime or TimeCreated
// make it surer).
func (NXLog) Detect(in *input.Input) int {
	h, ok := sniff(in)
	if !ok || h.has("Event") || h.has("System") || h.has("winlog") {
		return 0
	}
	if !h.has("EventID") || !h.has("Hostname") || !h.has("Channel") {
		return 0
	}
	if h.has("SourceName") || h.has("EventTime") || h.has("TimeCreated") || h.has("@timestamp") {
		return 90
	}
	return 70
}

// nxlogSystem are NXLog's and Logstash's keys that are not event data.
var nxlogSystem = map[string]bool{
	"EventTime": true, "EventReceivedTime": true, "@timestamp": true, "@version": true, "TimeCreated": true,
	"Hostname": true, "Keywords": true, "EventType": true, "SeverityValue": true, "Severity": true,
	"EventID": true, "SourceName": true, "ProviderGuid": true, "Version": true, "Task": true,
	"OpcodeValue": true, "Opcode": true, "RecordNumber": true, "ActivityID": true, "RelatedActivityID": true,
	"ExecutionProcessID": true, "ThreadID": true, "Channel": true, "Category": true, "Message": true,
	"SourceModuleName": true, "SourceModuleType": true, "UserID": true, "Level": true,
	"ERROR_EVT_UNRESOLVED": true, "host": true, "port": true, "tags": true, "type": true,
}

// nxlogResolved are the keys NXLog fills from System/Security/@UserID.
var nxlogResolved = map[string]bool{"AccountName": true, "Domain": true, "AccountType": true}

// Parse implements input.Parser.
func (p NXLog) Parse(ctx context.Context, in *input.Input, emit func(ev *event.Event) error, st *input.Stats) error {
	tz := timeZones{loc: time.UTC}
	if in.Config != nil {
		tz.loc = in.Config.SourceLocation(p.Name(), event.SourceEVTX)
	}
	var rec binxml.Record
	var ev event.Event
	var skew clockSkew
	err := readObjects(ctx, in, st, func(o *ordereddict.Dict, pos int64) error {
		rec.Reset()
		if get(o, "EventID") == "" {
			st.Skip("no EventID", fmt.Sprintf("%s:%d: object has no EventID", in.Path, pos))
			return nil
		}
		nxlogRecord(o, &rec, &tz)
		winevent.ToEvent(&rec, p.Name(), in.Path, &ev)
		ev.Offset = pos
		skew.check(&ev)
		if err := emit(&ev); err != nil {
			return err
		}
		st.Records++
		st.Saw(ev.Time)
		return nil
	})
	tz.finish(st, p.Name())
	skew.finish(st)
	return err
}

// clockSkew compares the stated time of Sysmon events with Sysmon's own
// UtcTime: exports that wrote local time as UTC (or a 12-hour clock)
// show up as whole hours of difference. Times are kept as stated; the
// investigator is told.
type clockSkew struct {
	sysmon int64
	by     map[time.Duration]int64
}

func (c *clockSkew) check(ev *event.Event) {
	if ev.Provider != "Microsoft-Windows-Sysmon" || ev.Time.IsZero() {
		return
	}
	u, err := time.Parse("2006-01-02 15:04:05.999999999", ev.Field("UtcTime"))
	if err != nil {
		return
	}
	c.sysmon++
	if d := u.Sub(ev.Time); d.Abs() >= 30*time.Minute {
		if c.by == nil {
			c.by = map[time.Duration]int64{}
		}
		c.by[d.Round(time.Hour)]++
	}
}

func (c *clockSkew) finish(st *input.Stats) {
	var n, top int64
	var mode time.Duration
	for d, k := range c.by {
		n += k
		if k > top || k == top && d < mode {
			mode, top = d, k
		}
	}
	if c.sysmon == 0 || 2*n <= c.sysmon {
		return
	}
	st.Note("in %d of %d Sysmon events the stated time differs from Sysmon's own UtcTime by whole hours (%d by %s): this export's times are likely in a wrong zone or on a 12-hour clock; they are kept as stated",
		n, c.sysmon, top, offsetText(mode)[3:])
}

func nxlogRecord(o *ordereddict.Dict, r *binxml.Record, tz *timeZones) {
	id, _ := atoi(get(o, "EventID"))
	r.EventID = int32(id)
	r.Provider = firstOf(o, "SourceName", "ProviderName", "Source")
	r.ProviderGUID = get(o, "ProviderGuid")
	r.Channel = get(o, "Channel")
	r.Computer = get(o, "Hostname")
	if n, ok := atoi(get(o, "RecordNumber")); ok && n > 0 {
		r.RecordID = uint64(n)
	}
	r.Message = get(o, "Message")
	r.UserID = get(o, "UserID")
	r.Time = tz.eventTime(get(o, "EventTime"), get(o, "@timestamp"), get(o, "TimeCreated"))
	resolved := get(o, "AccountType") != ""
	r.Fields = dictFields(o, func(k string) bool {
		return nxlogSystem[k] || (resolved && nxlogResolved[k])
	})
	// The classic "Source" key of PowerShell exports names the provider.
	if r.Provider != "" && get(o, "SourceName") == "" && get(o, "ProviderName") == "" {
		r.Fields = dropField(r.Fields, "Source")
	}
}

func firstOf(o *ordereddict.Dict, keys ...string) string {
	for _, k := range keys {
		if v := get(o, k); v != "" {
			return v
		}
	}
	return ""
}

func dropField(fs []binxml.Field, name string) []binxml.Field {
	for i := range fs {
		if fs[i].Name == name {
			return append(fs[:i], fs[i+1:]...)
		}
	}
	return fs
}

// timeZones resolves an export's event times and remembers what it
// assumed, for the file's notes.
type timeZones struct {
	loc      *time.Location
	inferred map[time.Duration]int64 // EventTime offsets taken from @timestamp
	assumed  int64                   // zone-less times read in loc
	bad      int64
}

// eventTime picks the event's time from EventTime, @timestamp and
// TimeCreated (see NXLog).
func (z *timeZones) eventTime(eventTime, stamp, created string) time.Time {
	ts, tsZoned, tsOK := parseTime(stamp)
	if tsOK && !tsZoned {
		ts, tsZoned = inZone(ts, z.loc), true
		z.assumed++
	}
	if et, zoned, ok := parseTime(eventTime); ok {
		if zoned {
			return et
		}
		if tsOK {
			off := et.Sub(ts).Round(15 * time.Minute)
			if off.Abs() <= 14*time.Hour {
				if z.inferred == nil {
					z.inferred = map[time.Duration]int64{}
				}
				z.inferred[off]++
				t := et.Add(-off)
				if d := ts.Sub(t); d >= 0 && d < time.Second {
					return ts
				}
				return t
			}
		}
		z.assumed++
		return inZone(et, z.loc)
	} else if eventTime != "" {
		z.bad++
	}
	if tsOK {
		return ts
	}
	if t, zoned, ok := parseTime(created); ok {
		if zoned {
			return t
		}
		z.assumed++
		return inZone(t, z.loc)
	}
	if stamp != "" || created != "" {
		z.bad++
	}
	return time.Time{}
}

func (z *timeZones) finish(st *input.Stats, format string) {
	if len(z.inferred) > 0 {
		offs := make([]time.Duration, 0, len(z.inferred))
		for o := range z.inferred {
			offs = append(offs, o)
		}
		sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
		var parts []string
		for _, o := range offs {
			parts = append(parts, fmt.Sprintf("%s (%d events)", offsetText(o), z.inferred[o]))
		}
		st.Note("EventTime has no zone; its offset was taken from @timestamp (the collector's UTC time): %s", strings.Join(parts, ", "))
	}
	if z.assumed > 0 {
		st.TimeZone = z.loc.String()
		st.Note("%d timestamps without zone read as %s (case config source_timezones[%q] or [evtx]; default UTC)", z.assumed, z.loc, format)
	}
	if z.bad > 0 {
		st.Note("%d events have a time spoor could not read; their time is left empty", z.bad)
	}
}

func offsetText(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("UTC%s%02d:%02d", sign, int(d.Hours()), int(d.Minutes())%60)
}
