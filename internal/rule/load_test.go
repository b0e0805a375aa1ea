package rule

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/yamlx"
	"github.com/spoor-dfir/spoor/rules"
)

// position returns the file:line:col errors as strings.
func errStrings(errs []error) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func wantErrAt(t *testing.T, errs []error, file string, line, col int, contains string) {
	t.Helper()
	for _, e := range errs {
		var ye *yamlx.Error
		if errors.As(e, &ye) && ye.File == file && ye.Line == line && ye.Column == col && strings.Contains(ye.Msg, contains) {
			return
		}
	}
	t.Errorf("want an error at %s:%d:%d containing %q; got %q", file, line, col, contains, errStrings(errs))
}

func TestMisspeltFieldPointsIntoCondition(t *testing.T) {
	cases := []struct {
		name      string
		yaml      string
		line, col int
	}{
		{"plain", "id: x\ntitle: X\nseverity: low\ncondition: event_id == 4720 && usr == \"a\"\n", 4, 32},
		{"double-quoted", "id: x\ntitle: X\nseverity: low\ncondition: \"event_id == 4720 && usr == 'a'\"\n", 4, 33},
		{"literal block", "id: x\ntitle: X\nseverity: low\ncondition: |\n  event_id == 4720\n  && usr == \"a\"\n", 6, 6},
		{"folded block", "id: x\ntitle: X\nseverity: low\ncondition: >-\n  event_id == 4720\n    && usr == \"a\"\n", 6, 8},
		{"plain multi-line", "id: x\ntitle: X\nseverity: low\ncondition: event_id == 4720\n  && usr == \"a\"\n", 5, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs, errs := ParseFile(caseconf.Default(), "r.yml", []byte(c.yaml))
			if len(rs) != 0 {
				t.Fatalf("rule with a misspelt field loaded")
			}
			wantErrAt(t, errs, "r.yml", c.line, c.col, "unknown name usr")
		})
	}
}

func TestTypeErrorAndBadRegexAreLoadErrors(t *testing.T) {
	src := "rules:\n" +
		"  - id: a\n    title: A\n    severity: low\n    condition: event_id == \"4720\"\n" +
		"  - id: b\n    title: B\n    severity: low\n    condition: re(command_line, \"(unclosed\")\n" +
		"  - id: c\n    title: C\n    severity: low\n    condition: cidr(src_ip, \"10.0.0.0/33\")\n" +
		"  - id: d\n    title: D\n    severity: low\n    condition: \"true\"\n    output: \"{{user}} from {{src_iq}}\"\n"
	rs, errs := ParseFile(nil, "m.yml", []byte(src))
	if len(rs) != 0 {
		t.Errorf("loaded %d rules, want none", len(rs))
	}
	wantErrAt(t, errs, "m.yml", 5, 25, "mismatched types")
	wantErrAt(t, errs, "m.yml", 9, 33, "re()")
	wantErrAt(t, errs, "m.yml", 13, 29, "cidr()")
	wantErrAt(t, errs, "m.yml", 18, 30, "unknown name src_iq")
}

func TestBadYAMLHasPosition(t *testing.T) {
	_, errs := ParseFile(nil, "bad.yml", []byte("id: x\ntitle: [unclosed\nseverity: low\n"))
	if len(errs) != 1 {
		t.Fatalf("errors: %q", errStrings(errs))
	}
	var ye *yamlx.Error
	if !errors.As(errs[0], &ye) || ye.File != "bad.yml" || ye.Line == 0 || ye.Column == 0 {
		t.Fatalf("want bad.yml:line:col, got %v", errs[0])
	}
	if !strings.HasPrefix(errs[0].Error(), "bad.yml:") {
		t.Errorf("message %q does not start with file:line:col", errs[0])
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	src := "id: x\ntitel: X\nseverity: urgent\ncondition: \"true\"\nfilter:\n  source: [evtx, syslog]\ntests:\n  - name: t\n    mtch: true\n    event: {evnt_id: 1}\n"
	_, errs := ParseFile(nil, "e.yml", []byte(src))
	wantErrAt(t, errs, "e.yml", 2, 1, `unknown key "titel"`)
	// Decoding stops at unknown keys, so fix that and look for the rest.
	src = strings.Replace(src, "titel", "title", 1)
	_, errs = ParseFile(nil, "e.yml", []byte(src))
	wantErrAt(t, errs, "e.yml", 3, 11, `severity "urgent"`)
	wantErrAt(t, errs, "e.yml", 6, 18, `source "syslog"`)
	wantErrAt(t, errs, "e.yml", 9, 5, `unknown key "mtch"`)
	wantErrAt(t, errs, "e.yml", 10, 13, `unknown event key "evnt_id"`)
}

func TestCaseFileUnknownKeyHasPosition(t *testing.T) {
	_, err := caseconf.Parse("case.yaml", []byte("timezone: Europe/Berlin\nbusiness_hours:\n  start: \"08:00\"\n  ende: \"18:00\"\n"))
	var ye *yamlx.Error
	if !errors.As(err, &ye) || ye.Line != 4 || ye.Column != 3 || !strings.Contains(err.Error(), "case.yaml:4:3") {
		t.Fatalf("want case.yaml:4:3 unknown key, got %v", err)
	}
}

func TestTestCaseErrorsPointIntoRuleFile(t *testing.T) {
	src := "id: x\ntitle: X\nseverity: low\ncondition: \"true\"\ntest_case:\n  timezone: Europe/Berlin\n  providrs: []\ntests:\n  - {match: true, event: {event_id: 1}}\n"
	_, errs := ParseFile(nil, "tc.yml", []byte(src))
	wantErrAt(t, errs, "tc.yml", 7, 3, "providrs")
}

// A rule broken on purpose must make its embedded tests fail: the tests
// check behaviour, not just that something loads.
func TestBrokenBuiltinRuleFailsItsTests(t *testing.T) {
	mutations := []struct{ file, from, to string }{
		{"accounts.yml", `privileged(field("TargetUserName")) || privileged(field("TargetSid"))`, `privileged(field("TargetDomainName"))`},
		{"logon.yml", "&& !business_hours(time)", "&& business_hours(time)"},
		{"bruteforce.yml", "count: 5\n      window: 10m\n      group_by: [host, lower(user)]", "count: 3\n      window: 10m\n      group_by: [host, lower(user)]"},
		{"powershell.yml", `&& decode_ps(command_line) != ""`, `&& b64(command_line) != ""`},
		{"services.yml", `"anydesk", `, ``},
	}
	for _, m := range mutations {
		t.Run(m.file, func(t *testing.T) {
			data, err := fs.ReadFile(rules.FS, m.file)
			if err != nil {
				t.Fatal(err)
			}
			broken := strings.Replace(string(data), m.from, m.to, 1)
			if broken == string(data) {
				t.Fatalf("mutation %q not found in %s", m.from, m.file)
			}
			rs, errs := ParseFile(nil, m.file, []byte(broken))
			if len(errs) > 0 {
				t.Fatalf("broken rule should still load: %v", errs)
			}
			failed := 0
			for _, r := range rs {
				res, err := RunTests(r)
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range res {
					if !x.Pass {
						failed++
					}
				}
			}
			if failed == 0 {
				t.Errorf("mutating %s did not fail any test", m.file)
			}
		})
	}
}

func TestLoadPathsWalksAndDetectsSigma(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yml", "id: a\ntitle: A\nseverity: low\ncondition: event_id == 1\n")
	write("sub/b.yaml", "id: b\ntitle: B\nseverity: low\ncondition: event_id == 2\n")
	write("sub/dup.yml", "id: a\ntitle: A again\nseverity: low\ncondition: event_id == 3\n")
	write("sigma.yml", "title: S\nlogsource: {product: windows}\ndetection:\n  sel: {EventID: 1}\n  condition: sel\n")
	write("notes.txt", "not a rule")
	var got []Doc
	sig := func(docs []Doc) ([]*Rule, []error) {
		got = docs
		return []*Rule{{ID: "sigma-1", Kind: KindSigma}}, nil
	}
	rs, errs := LoadPaths(nil, []string{dir}, sig)
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "a,b,sigma-1" {
		t.Errorf("ids = %v", ids)
	}
	if len(got) != 1 || filepath.Base(got[0].File) != "sigma.yml" {
		t.Errorf("sigma docs = %v", got)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "duplicate rule id") || !strings.Contains(errs[0].Error(), "dup.yml:1:1") {
		t.Errorf("errs = %q", errStrings(errs))
	}
	_, errs = LoadPaths(nil, []string{dir}, nil)
	found := false
	for _, e := range errs {
		found = found || strings.Contains(e.Error(), "no Sigma compiler")
	}
	if !found {
		t.Errorf("without a Sigma compiler the Sigma file must be reported: %q", errStrings(errs))
	}
}

func TestIsSigma(t *testing.T) {
	for src, want := range map[string]bool{
		"title: x\nlogsource: {}\ndetection: {condition: sel}\n": true,
		"title: x\ncorrelation: {type: event_count}\n":           true,
		"action: global\ntitle: x\n---\nlogsource: {}\n":         true,
		"id: x\ncondition: event_id == 1\n":                      false,
		"id: x\ncondition: \"true\"\ndetection: {}\n":            false,
		"rules:\n  - id: x\n":                                    false,
		"[not yaml":                                              false,
	} {
		if got := IsSigma([]byte(src)); got != want {
			t.Errorf("IsSigma(%q) = %v, want %v", src, got, want)
		}
	}
}
