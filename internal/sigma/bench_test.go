package sigma

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// mixFiles is a realistic event mix from the shared samples: Sysmon,
// Security (logons, password guessing), System, PowerShell 4104 script
// blocks and Application, plus SigmaHQ's regression events.
var mixFiles = []string{
	"evtx/evtx-rs/sysmon.evtx",
	"evtx/evtx-rs/security.evtx",
	"evtx/evtx-rs/system.evtx",
	"evtx/deepbluecli/smb-password-guessing-security.evtx",
	"evtx/deepbluecli/Powershell-Invoke-Obfuscation-many.evtx",
	"evtx/deepbluecli/many-events-application.evtx",
	"evtx/deepbluecli/metasploit-sysmon.evtx",
}

var (
	mixOnce sync.Once
	mixEvs  []*event.Event
)

func eventMix(b *testing.B) []*event.Event {
	samples := testutil.Shared(b, "samples")
	reg := testutil.Shared(b, "sigma", "regression_data")
	mixOnce.Do(func() {
		for _, f := range mixFiles {
			mixEvs = append(mixEvs, readEVTX(b, filepath.Join(samples, f))...)
		}
		regFiles, _ := filepath.Glob(filepath.Join(reg, "*", "*", "*", "*", "*.evtx"))
		more, _ := filepath.Glob(filepath.Join(reg, "*", "*", "*", "*", "*", "*.evtx"))
		for _, f := range append(regFiles, more...) {
			mixEvs = append(mixEvs, readEVTX(b, f)...)
		}
	})
	if len(mixEvs) == 0 {
		b.Skip("no events")
	}
	return mixEvs
}

// idIndex groups rules by the event ids of their filter, as the hunt's
// plan does, so an event is only tried against rules that can match it;
// rules without event ids are tried on every event.
type idIndex struct {
	byID map[int32][]*rule.Rule
	any  []*rule.Rule
}

func newIDIndex(rules []*rule.Rule) *idIndex {
	ix := &idIndex{byID: map[int32][]*rule.Rule{}}
	for _, r := range rules {
		if len(r.Filter.EventIDs) == 0 {
			ix.any = append(ix.any, r)
			continue
		}
		for _, id := range r.Filter.EventIDs {
			ix.byID[id] = append(ix.byID[id], r)
		}
	}
	return ix
}

func (ix *idIndex) eval(ev *event.Event, emit func(*rule.Rule)) {
	for _, list := range [2][]*rule.Rule{ix.byID[ev.EventID], ix.any} {
		for _, r := range list {
			if rule.Evaluate(r, ev) {
				emit(r)
			}
		}
	}
}

func benchRules(b *testing.B, rules []*rule.Rule, indexed bool) {
	evs := eventMix(b)
	ix := newIDIndex(rules)
	matches := 0
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		matches = 0
		for _, ev := range evs {
			if indexed {
				ix.eval(ev, func(*rule.Rule) { matches++ })
				continue
			}
			for _, r := range rules {
				if rule.Evaluate(r, ev) {
					matches++
				}
			}
		}
	}
	b.StopTimer()
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(evs))*float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(evs)), "events")
	b.ReportMetric(float64(len(rules)), "rules")
	b.ReportMetric(float64(matches), "matches")
}

func windowsRules(b *testing.B) []*rule.Rule {
	docs := readRuleDir(b, testutil.Shared(b, "sigma", "rules", "windows"))
	rules, _ := Compile(docs)
	return rules
}

// BenchmarkWindowsRules runs every SigmaHQ Windows rule over the event
// mix, each event tried against each rule's filter (the plain way).
func BenchmarkWindowsRules(b *testing.B) { benchRules(b, windowsRules(b), false) }

// BenchmarkWindowsRulesIndexed is the same with rules indexed by event
// id, as the hunt runs them.
func BenchmarkWindowsRulesIndexed(b *testing.B) { benchRules(b, windowsRules(b), true) }

// BenchmarkBuiltinPack runs spoor's built-in rule pack over the same mix,
// indexed the same way, for comparison (single-event evaluation only).
func BenchmarkBuiltinPack(b *testing.B) {
	rules, errs := rule.Builtin(caseconf.Default())
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	benchRules(b, rules, true)
}

// BenchmarkWindowsRulesSet is BenchmarkWindowsRules through the compiled
// set, with the raw fields as the hunt hands them over (stored JSON
// text); each iteration starts with an empty memo, the event kinds'
// arrangements are built before the timer starts.
func BenchmarkWindowsRulesSet(b *testing.B) {
	var rules []*rule.Rule
	for _, r := range windowsRules(b) {
		if Compiled(r) {
			rules = append(rules, r)
		}
	}
	var evs []*event.Event
	for _, ev := range eventMix(b) {
		c := *ev
		if ev.Fields != nil {
			js, err := event.MarshalFields(ev.Fields)
			if err != nil {
				b.Fatal(err)
			}
			c.Fields, c.RawFields = nil, string(js)
		}
		evs = append(evs, &c)
	}
	set := NewSet(rules)
	warm := set.NewMatcher()
	for _, ev := range evs {
		warm.Match(ev, nil)
	}
	matches := 0
	var hits []int
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		m := set.NewMatcher()
		matches = 0
		for _, ev := range evs {
			hits = m.Match(ev, hits[:0])
			matches += len(hits)
		}
	}
	b.StopTimer()
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(len(evs))*float64(b.N)/cpu.Seconds(), "events/cpu-s")
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(rules)), "rules")
	b.ReportMetric(float64(matches), "matches")
}
