package sqlexport

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/rule/ruleset"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden SQL files")

// goldenExport compiles the built-in pack and the fixture Sigma rules for
// the demo case.
func goldenExport(t *testing.T, d Dialect) *Export {
	t.Helper()
	cfg, err := caseconf.Load(filepath.Join(testutil.RepoRoot(t), "testdata", "cases", "comtech", "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, errs := ruleset.LoadWith(cfg, ruleset.Options{Builtin: true, Paths: []string{"testdata/rules"}})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	ex := Compile(d, cfg, rules, os.ReadFile)
	if got := len(ex.Rules) + len(ex.Skipped); got != len(rules) {
		t.Fatalf("%d rules in, %d exported + %d listed: a rule was dropped silently", len(rules), len(ex.Rules), len(ex.Skipped))
	}
	return ex
}

// TestGoldenSQL: the SQL of each dialect for the built-in pack and the
// fixture rules is the committed one (go test -update rewrites it after a
// reviewed change). DuckDB's is also run by the differential tests; Spark
// and Trino have no engine here, so their text is what is reviewed.
func TestGoldenSQL(t *testing.T) {
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			ex := goldenExport(t, d)
			ref := "s3://bucket/clients/acme/store"
			if d == Trino {
				ref = "hive.spoor.acme_events"
			}
			for _, mode := range []struct {
				name    string
				perRule bool
			}{{"combined", false}, {"per-rule", true}} {
				var b bytes.Buffer
				if err := ex.WriteSQL(&b, d.Events(ref), mode.perRule); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "golden", string(d)+"-"+mode.name+".sql")
				if *update {
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("%s differs from the golden file (go test ./internal/sqlexport -run TestGoldenSQL -update, then review the diff)", path)
				}
			}
		})
	}
}

// TestListsWhatCannotBeExpressed: stateful rules, decode_ps() and
// keywords are listed with their reasons; the fixture rules that can be
// expressed are exported.
func TestListsWhatCannotBeExpressed(t *testing.T) {
	ex := goldenExport(t, DuckDB)
	reasons := map[string]string{}
	for _, s := range ex.Skipped {
		reasons[s.ID] = s.Reason
	}
	for id, want := range map[string]string{
		"failed-logon-burst":                   "stateful",
		"recon-accounts":                       "decode_ps",
		"7d4c1f0e-0000-4000-8000-000000000003": "keywords",
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("%s: reason %q, want it to mention %q", id, reasons[id], want)
		}
	}
	exported := map[string]bool{}
	for _, r := range ex.Rules {
		exported[r.ID] = true
	}
	for _, id := range []string{"provider-logon-off-hours", "privileged-group-member-added", "7d4c1f0e-0000-4000-8000-000000000001", "7d4c1f0e-0000-4000-8000-000000000002"} {
		if !exported[id] {
			t.Errorf("%s was not exported: %s", id, reasons[id])
		}
	}
}

// TestIPv4RegexIsPrefixContains compares the generated address patterns
// with netip over random and edge addresses for prefixes of every length.
func TestIPv4RegexIsPrefixContains(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for bits := 0; bits <= 32; bits++ {
		var a [4]byte
		for i := range a {
			a[i] = byte(r.IntN(256))
		}
		p := netip.PrefixFrom(netip.AddrFrom4(a), bits).Masked()
		re := regexp.MustCompile("^(" + ipv4Regex(p) + ")$")
		check := func(s string) {
			want := false
			if ad, err := netip.ParseAddr(s); err == nil {
				want = p.Contains(ad)
			}
			if got := re.MatchString(s); got != want {
				t.Fatalf("%s on %q: regex %v, netip %v", p, s, got, want)
			}
		}
		base := p.Addr().As4()
		check(p.Addr().String())
		for i := 0; i < 300; i++ {
			b := base
			if i%2 == 0 {
				b = [4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}
			} else {
				b[3] ^= byte(r.IntN(256))
				b[r.IntN(4)] ^= byte(1 << r.IntN(8))
			}
			check(netip.AddrFrom4(b).String())
		}
		for _, s := range []string{"", "1.2.3", "01.2.3.4", "1.2.3.4.5", "256.1.1.1", " 1.2.3.4", "::ffff:1.2.3.4"} {
			if re.MatchString(s) {
				want := false
				if ad, err := netip.ParseAddr(s); err == nil {
					want = p.Contains(ad)
				}
				if !want {
					t.Fatalf("%s matches %q", p, s)
				}
			}
		}
	}
}

func TestGlobLike(t *testing.T) {
	for pat, want := range map[string]string{
		`ct-*`:         `ct-%`,
		`CORP\ct-?`:    `CORP\ct-_`,
		`100%_sure!`:   `100!%!_sure!!`,
		`*@comtech.de`: `%@comtech.de`,
	} {
		if got, ok := globLike(pat); !ok || got != want {
			t.Errorf("globLike(%q) = %q, %v; want %q", pat, got, ok, want)
		}
	}
	if _, ok := globLike("adm[0-9]"); ok {
		t.Error("a [class] has no LIKE form")
	}
}
