package sigma

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
)

// Vocabulary of the random rules and events: few fields and short values
// so that rules and events meet often, with the cases the set treats
// apart (case, dashes, wildcards, EventID, keywords, missing fields).
var (
	fuzzFields = []string{"Image", "CommandLine", "ParentImage", "EventID", "Channel", "Data", "", "IntegrityLevel", "TimeCreated"}
	fuzzWords  = []string{"cmd", "CMD.exe", `\cmd.exe`, "-enc", "/c", "who", "whoami", "a", "4688", "1", "Security", "é", "*", "?", `\*`, "x*y", "", "\u0410b", "\u212ay", "ſ", "Ks|zz", "High", "S-1-16-12288", "0x1"}
	fuzzMods   = []string{"", "|contains", "|startswith", "|endswith", "|contains|all", "|windash|contains", "|re", "|re|i", "|cased", "|exists", "|base64offset|contains",
		"|neq", "|neq|cased", "|fieldref|neq", "|fieldref", "|fieldref|endswith", "|hour", "|hour|gte", "|minute|neq", "|day|lt"}
	// fuzzTimes are the record times of fuzzed events (and values of a
	// raw date field), around an hour and a year boundary.
	fuzzTimes = []string{"2026-01-01T00:00:00Z", "2025-12-31T23:59:59.5Z", "2026-03-29T01:30:00Z", "2026-03-29 03:00:00.000", "not a time"}
	fuzzLs    = []string{"  category: process_creation\n  product: windows", "  product: windows\n  service: security", "  product: windows"}
)

// fuzzRule builds a Sigma rule from bytes of fuzz input.
func fuzzRule(id int, in []byte) string {
	pos := 0
	next := func(n int) int {
		if pos >= len(in) {
			return 0
		}
		pos++
		return int(in[pos-1]) % n
	}
	var b strings.Builder
	fmt.Fprintf(&b, "title: f%d\nid: f%d\nlogsource:\n%s\ndetection:\n", id, id, fuzzLs[next(len(fuzzLs))])
	nsel := 1 + next(3)
	for s := 0; s < nsel; s++ {
		fmt.Fprintf(&b, "  s%d:\n", s)
		nf := 1 + next(2)
		for f := 0; f < nf; f++ {
			field := fuzzFields[next(len(fuzzFields))]
			mod := fuzzMods[next(len(fuzzMods))]
			if field == "" {
				// Keywords: a list of values under the identifier itself.
				if f == 0 {
					fmt.Fprintf(&b, "    - '%s'\n    - '%s'\n", quote(fuzzWords[next(len(fuzzWords))]), quote(fuzzWords[next(len(fuzzWords))]))
					break
				}
				field = "Image"
			}
			if mod == "|exists" {
				fmt.Fprintf(&b, "    %s|exists: %v\n", field, next(2) == 0)
				continue
			}
			timeMod := strings.Contains(mod, "|hour") || strings.Contains(mod, "|minute") || strings.Contains(mod, "|day")
			if strings.HasPrefix(mod, "|fieldref") {
				// The value names another field (a list of them: read as
				// opaque).
				refs := []string{"Image", "ParentImage", "TimeCreated", "NewProcessName", "IntegrityLevel", "Data", "EventID", "Provider_Name"}
				if next(4) == 0 {
					fmt.Fprintf(&b, "    %s%s:\n      - %s\n      - %s\n", field, mod, refs[next(len(refs))], refs[next(len(refs))])
					continue
				}
				fmt.Fprintf(&b, "    %s%s: %s\n", field, mod, refs[next(len(refs))])
				continue
			}
			fmt.Fprintf(&b, "    %s%s:\n", field, mod)
			for v, nv := 0, 1+next(3); v < nv; v++ {
				w := fuzzWords[next(len(fuzzWords))]
				if timeMod {
					fmt.Fprintf(&b, "      - %d\n", []int{0, 1, 3, 23, 29, 31, 59}[next(7)])
					continue
				}
				if strings.HasPrefix(mod, "|re") {
					w = strings.NewReplacer("*", ".*", "?", ".", `\`, `\\`).Replace(w)
				}
				if next(5) == 0 {
					fmt.Fprintf(&b, "      - null\n")
					continue
				}
				fmt.Fprintf(&b, "      - '%s'\n", quote(w))
			}
		}
	}
	conds := []string{"s0", "not s0", "1 of s*", "all of s*", "s0 and not s1", "s0 or s1 and not s2", "not (s0 or s1)"}
	cond := conds[next(len(conds))]
	if nsel < 3 && strings.Contains(cond, "s2") || nsel < 2 && strings.Contains(cond, "s1") {
		cond = "s0"
	}
	fmt.Fprintf(&b, "  condition: %s\n", cond)
	return b.String()
}

func quote(s string) string { return strings.ReplaceAll(s, "'", "''") }

// fuzzEvent builds an event from bytes of fuzz input.
func fuzzEvent(in []byte) *event.Event {
	pos := 0
	next := func(n int) int {
		if pos >= len(in) {
			return 0
		}
		pos++
		return int(in[pos-1]) % n
	}
	chans := []string{"Microsoft-Windows-Sysmon/Operational", "Security", "security", "System", ""}
	ids := []int32{1, 4688, 4624, 3}
	ev := &event.Event{Source: event.SourceEVTX, Channel: chans[next(len(chans))], EventID: ids[next(len(ids))]}
	if t, err := time.Parse(time.RFC3339Nano, fuzzTimes[next(len(fuzzTimes))]); err == nil {
		ev.Time = t
	}
	var kv []string
	for f, nf := 0, next(6); f < nf; f++ {
		names := []string{"Image", "CommandLine", "ParentImage", "NewProcessName", "Data", "Data_2", "ProcessId", "IntegrityLevel", "MandatoryLabel", "TimeCreated"}
		name := names[next(len(names))]
		if name == "TimeCreated" {
			// A raw date field of the same name as the record time.
			kv = append(kv, name, fuzzTimes[next(len(fuzzTimes))])
			continue
		}
		var v strings.Builder
		for w, nw := 0, next(4); w < nw; w++ {
			if w > 0 && next(2) == 0 {
				v.WriteByte(' ')
			}
			v.WriteString(fuzzWords[next(len(fuzzWords))])
		}
		kv = append(kv, name, v.String())
	}
	ev.Fields = newDict(kv...)
	if next(3) == 0 {
		ev.Message = fuzzWords[next(len(fuzzWords))]
	}
	return ev
}

// FuzzSetMatchesRules compiles random rules and matches random events
// with the set and with each rule's own matcher: the answers must agree.
func FuzzSetMatchesRules(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"), []byte("\x00\x01\x03\x01\x02\x01\x06"))
	f.Add([]byte("\x01\x02\x01\x03\x05\x02\x04\x02\x07\x01\x01\x09\x03"), []byte("\x01\x00\x04\x00\x02\x05\x03\x03\x01\x08"))
	f.Add([]byte("\x00\x01\x01\x01\x06\x01\x02\x03\x00\x00\x02\x0b"), []byte("\x00\x01\x02\x01\x04\x02\x02\x02\x01\x00"))
	f.Fuzz(func(t *testing.T, rb, eb []byte) {
		// Several rules from one input: the set's sharing of slots and
		// automata between rules is what is under test.
		var docs []Doc
		for i := 0; i < 4; i++ {
			off := i * len(rb) / 4
			docs = append(docs, Doc{File: fmt.Sprintf("f%d.yml", i), Data: []byte(fuzzRule(i, rb[off:]))})
		}
		rules, _ := Compile(docs)
		rules = setRules(rules)
		if len(rules) == 0 {
			return
		}
		set := NewSet(rules)
		m := set.NewMatcher()
		// Each event twice: the second answer may come from the memo.
		for i := 0; i < 8; i++ {
			ev := fuzzEvent(eb[(i%4)*len(eb)/4:])
			in := ev
			if i >= 4 {
				// The second time with the fields as stored text.
				b, _ := event.MarshalFields(ev.Fields)
				c := *ev
				c.Fields, c.RawFields = nil, string(b)
				in = &c
			}
			got := m.Match(in, nil)
			var want []int
			for k, r := range rules {
				if rule.Evaluate(r, ev) {
					want = append(want, k)
				}
			}
			if !slices.Equal(got, want) {
				var src []string
				for _, d := range docs {
					src = append(src, string(d.Data))
				}
				t.Fatalf("set %v, rules %v on %s/%d %v msg %q\nrules:\n%s", got, want, ev.Channel, ev.EventID, ev.Fields, ev.Message, strings.Join(src, "---\n"))
			}
		}
	})
}
