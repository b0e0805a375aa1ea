package ingesttest

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Velocidex/ordereddict"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// WindowsSamples are shared sample EVTX files whose events the ingesters
// of other renderings (event XML, collector JSON) are compared with:
// Security logons, account and group changes, services, PowerShell 4104
// and classic 400/800, Sysmon, log clearing, RDP (UserData), System.
var WindowsSamples = []string{
	"deepbluecli/new-user-security.evtx",
	"deepbluecli/metasploit-psexec-native-target-security.evtx",
	"deepbluecli/metasploit-psexec-native-target-system.evtx",
	"deepbluecli/Powershell-Invoke-Obfuscation-string-menu.evtx",
	"deepbluecli/sliver-sysmon.evtx",
	"deepbluecli/mimikatz-privesc-hashdump.evtx",
	"deepbluecli/eventlog-dac.evtx",
	"deepbluecli/many-events-application.evtx",
	"evtx-rs/Security_short_selected.evtx",
	"evtx-rs/2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx",
	"evtx-rs/system.evtx",
}

// EVTXEvents ingests a shared sample EVTX file (a path under
// ../shared/samples/evtx) with the EVTX ingester; the test skips when the
// samples are absent.
func EVTXEvents(t testing.TB, rel string) []*event.Event {
	t.Helper()
	p := testutil.Shared(t, "samples", "evtx", filepath.FromSlash(rel))
	evs, _ := ParseAll(t, evtx.New(), FileInput(t, p, rel, nil))
	if len(evs) == 0 {
		t.Fatalf("%s: no events", rel)
	}
	// The EVTX parser hands its fields on as the store's JSON text (or a
	// dict where names repeat); the renderers and comparisons walk them as
	// the store keeps them, a dict decoded from that text.
	for _, ev := range evs {
		ev.Fields, ev.RawFields = stringLists(stored(ev.FieldDict())), ""
	}
	return evs
}

// DiffEvent says how got differs from want in the typed columns and the
// raw fields (their order included), or "" when they agree. Format,
// Evidence and Offset say where an event was read, not what it says, and
// are not compared.
func DiffEvent(want, got *event.Event) string {
	w, g := *want, *got
	w.Format, w.Evidence, w.Offset, w.Fields, w.RawFields = "", "", 0, nil, ""
	g.Format, g.Evidence, g.Offset, g.Fields, g.RawFields = "", "", 0, nil, ""
	var diffs []string
	if !w.Time.Equal(g.Time) {
		diffs = append(diffs, fmt.Sprintf("time %s, want %s", g.Time.Format("2006-01-02T15:04:05.0000000Z"), w.Time.Format("2006-01-02T15:04:05.0000000Z")))
	}
	w.Time, g.Time = w.Time.UTC(), w.Time.UTC()
	if w != g {
		wv, gv := reflect.ValueOf(w), reflect.ValueOf(g)
		for i := 0; i < wv.NumField(); i++ {
			if !reflect.DeepEqual(wv.Field(i).Interface(), gv.Field(i).Interface()) {
				diffs = append(diffs, fmt.Sprintf("%s %q, want %q", wv.Type().Field(i).Name, fmt.Sprint(gv.Field(i).Interface()), fmt.Sprint(wv.Field(i).Interface())))
			}
		}
	}
	if d := diffFields("", stored(want.Fields), stored(got.Fields)); d != "" {
		diffs = append(diffs, d)
	}
	return strings.Join(diffs, "; ")
}

func diffFields(prefix string, want, got *ordereddict.Dict) string {
	wk, gk := keys(want), keys(got)
	if !reflect.DeepEqual(wk, gk) {
		return fmt.Sprintf("%sfields %v, want %v", prefix, gk, wk)
	}
	var diffs []string
	for _, k := range wk {
		wv, _ := want.Get(k)
		gv, _ := got.Get(k)
		wd, wIsDict := wv.(*ordereddict.Dict)
		gd, gIsDict := gv.(*ordereddict.Dict)
		switch {
		case wIsDict && gIsDict:
			if d := diffFields(prefix+k+".", wd, gd); d != "" {
				diffs = append(diffs, d)
			}
		case !reflect.DeepEqual(wv, gv):
			diffs = append(diffs, fmt.Sprintf("field %s%s = %#v, want %#v", prefix, k, gv, wv))
		}
	}
	return strings.Join(diffs, "; ")
}

func keys(d *ordereddict.Dict) []string {
	if d == nil {
		return []string{}
	}
	k := d.Keys()
	if k == nil {
		k = []string{}
	}
	return k
}

// stored is d as the store keeps it: through its JSON text, so a list
// compares the same whether a parser built []string or []any.
func stored(d *ordereddict.Dict) *ordereddict.Dict {
	b, err := event.MarshalFields(d)
	if err != nil {
		return d
	}
	out, err := event.UnmarshalFieldsString(string(b))
	if err != nil {
		return d
	}
	return out
}

// stringLists gives back the []string lists the decoders produce where the
// fields' JSON text decoded to []any, so renderers see what a parser saw.
func stringLists(d *ordereddict.Dict) *ordereddict.Dict {
	if d == nil {
		return nil
	}
	out := ordereddict.NewDict()
	for _, it := range d.Items() {
		switch v := it.Value.(type) {
		case *ordereddict.Dict:
			out.Set(it.Key, stringLists(v))
		case nil:
			// An empty list's JSON is null; as XML it is an empty element.
			out.Set(it.Key, []string(nil))
		case []any:
			l := make([]string, 0, len(v))
			for _, x := range v {
				if tm, ok := x.(time.Time); ok {
					// The decoder wrote this text; decoding read it as a time.
					x = tm.Format(time.RFC3339Nano)
				}
				s, ok := x.(string)
				if !ok {
					l = nil
					break
				}
				l = append(l, s)
			}
			if l == nil && len(v) > 0 {
				out.Set(it.Key, v)
			} else {
				out.Set(it.Key, l)
			}
		default:
			out.Set(it.Key, v)
		}
	}
	return out
}
