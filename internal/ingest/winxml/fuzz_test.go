package winxml

import (
	"context"
	"testing"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// FuzzParse: no input makes the XML ingester panic, and it counts what it
// emits.
func FuzzParse(f *testing.F) {
	ev := `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID Qualifiers='0'>4624</EventID><TimeCreated SystemTime='2019-02-13T18:03:29.1426450Z'/><EventRecordID>7</EventRecordID><Channel>Security</Channel><Computer>PC</Computer></System><EventData><Data Name='TargetUserName'>bob</Data><Data>x</Data><Data Name='A'>1</Data><Data Name='A'>2</Data></EventData></Event>`
	f.Add([]byte(ev + ev))
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"utf-16\"?><Events>" + ev + "</Events>"))
	f.Add([]byte("evtxexport 20181227\n\n" + ev))
	f.Add([]byte(`<Event><System><EventID>1</EventID></System><UserData><R xmlns='x' v='1'><A>b</A><N><M>c</M></N><E k='v'/></R></UserData><RenderingInfo><Message>m</Message></RenderingInfo></Event>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := ingesttest.Input(data, "fuzz.xml", nil)
		p := New()
		p.Detect(in)
		var n int64
		st := &input.Stats{}
		err := p.Parse(context.Background(), in, func(ev *event.Event) error {
			n++
			if ev.Source != event.SourceEVTX || ev.Format != p.Name() || ev.Fields == nil {
				t.Fatalf("bad event columns: %+v", ev)
			}
			return nil
		}, st)
		if err == nil && st.Records != n {
			t.Fatalf("Records %d, emitted %d", st.Records, n)
		}
	})
}
