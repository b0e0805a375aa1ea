package rule

import (
	"io/fs"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/rules"
)

// FuzzParseFile: no rule file, however broken, makes the loader panic,
// and every error it reports names the file.
func FuzzParseFile(f *testing.F) {
	names, _ := fs.Glob(rules.FS, "*.yml")
	for _, n := range names {
		data, _ := fs.ReadFile(rules.FS, n)
		f.Add(data)
	}
	f.Add([]byte("id: x\ntitle: X\nseverity: low\ncondition: |\n  event_id == 1 &&\n"))
	f.Add([]byte("rules: [{id: a, title: A, severity: low, condition: 'true', threshold: {count: 2, window: 1m}, tests: [{count: 1, events: [{repeat: 3}]}]}]"))
	f.Add([]byte("id: x\ntitle: X\nseverity: low\ncondition: \"true\"\noutput: \"{{user}} {{\"\n"))
	cfg := caseconf.Default()
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, errs := ParseFile(cfg, "fuzz.yml", data)
		for _, e := range errs {
			if e == nil || len(e.Error()) < len("fuzz.yml") || e.Error()[:len("fuzz.yml")] != "fuzz.yml" {
				t.Fatalf("error without the file name: %v", e)
			}
		}
		for _, r := range rs {
			if _, err := RunTests(r); err != nil {
				t.Fatalf("a loaded rule failed to recompile for its tests: %v", err)
			}
		}
	})
}

// FuzzShorten: shortening hostile text never panics.
func FuzzShorten(f *testing.F) {
	f.Add("powershell -enc RwBlAHQALQBBAEQAVQBzAGUAcgA=")
	f.Add("pwsh –e \"SQBFAFgA\"")
	f.Fuzz(func(t *testing.T, s string) {
		shorten(s, 5)
	})
}
