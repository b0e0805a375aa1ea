package ingesttest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
	for _, ev := range evs {
		ev.Fields, ev.RawFields = FieldsOf(t, ev), ""
	}
	return evs
}

// FieldsOf is an event's raw fields as a dict with the decoders' value
// types (text, a list of texts, nested fields), whether the parser gave
// them as a dict or as the store's JSON text (Event.RawFields): a JSON
// null is a nil list, the only value that writes as null.
func FieldsOf(t testing.TB, ev *event.Event) *ordereddict.Dict {
	t.Helper()
	d, err := decodeFields(ev)
	if err != nil {
		t.Fatalf("raw fields %.80q: %v", ev.RawFields, err)
	}
	return d
}

func decodeFields(ev *event.Event) (*ordereddict.Dict, error) {
	if ev.Fields != nil || ev.RawFields == "" {
		return ev.Fields, nil
	}
	dec := json.NewDecoder(strings.NewReader(ev.RawFields))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	return jsonObject(dec)
}

func jsonObject(dec *json.Decoder) (*ordereddict.Dict, error) {
	d := ordereddict.NewDict()
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch v := tok.(type) {
		case string:
			d.Set(k.(string), v)
		case nil:
			d.Set(k.(string), []string(nil))
		case json.Delim:
			if v == '{' {
				sub, err := jsonObject(dec)
				if err != nil {
					return nil, err
				}
				d.Set(k.(string), sub)
				continue
			}
			list := []string{}
			for dec.More() {
				var s string
				if err := dec.Decode(&s); err != nil {
					return nil, err
				}
				list = append(list, s)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			d.Set(k.(string), list)
		default:
			return nil, fmt.Errorf("field %v: unexpected %v", k, tok)
		}
	}
	_, err := dec.Token() // '}'
	return d, err
}

// fieldsOf is FieldsOf for DiffEvent, which has no testing.TB: text that
// does not decode compares as a field saying so (and so differs).
func fieldsOf(ev *event.Event) *ordereddict.Dict {
	d, err := decodeFields(ev)
	if err != nil {
		return ordereddict.NewDict().Set("(undecodable raw fields)", ev.RawFields)
	}
	return d
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
	if d := diffFields("", fieldsOf(want), fieldsOf(got)); d != "" {
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
