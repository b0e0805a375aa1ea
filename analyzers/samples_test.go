package analyzers_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/analyzers"
	"github.com/spoor-dfir/spoor/analyzers/internal/evtest"
	"github.com/spoor-dfir/spoor/analyzers/newadmin"
	"github.com/spoor-dfir/spoor/analyzers/psrecon"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

func TestAllNamesAndOrder(t *testing.T) {
	var names []string
	for _, a := range analyzers.All(nil) {
		names = append(names, a.Name())
	}
	want := []string{"sessions", "offhours", "rmmsessions", "psrecon", "newadmin", "outbound", "persistence", "lateral", "coverage"}
	if !slices.Equal(names, want) {
		t.Errorf("All() = %v, want %v", names, want)
	}
}

// sample parses one shared EVTX sample with spoor's own EVTX parser and
// feeds every event to a, as the hunt would.
func sample(t *testing.T, rel string, a evtest.Analyzer) []event.Finding {
	t.Helper()
	feed(t, a, rel)
	return a.Finish()
}

// feed parses one shared EVTX sample into a without finishing it, so a
// test can give one analyzer several files of the same host.
func feed(t *testing.T, a evtest.Analyzer, rel string) {
	t.Helper()
	root := evtest.Samples()
	if root == "" {
		t.Skip("shared samples not present")
	}
	path := filepath.Join(root, "evtx", rel)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("sample %s: %v", rel, err)
	}
	cfg := caseconf.Default()
	in := &input.Input{Path: "evtx/" + rel, Size: int64(len(raw)), Raw: raw[:min(len(raw), input.HeadSize)], Config: cfg, Workers: 1,
		Open: func() (io.ReadCloser, error) { return os.Open(path) }}
	var st input.Stats
	n := 0
	err = evtx.New().Parse(context.Background(), in, func(ev *event.Event) error {
		n++
		a.Observe(ev)
		return nil
	}, &st)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if n == 0 {
		t.Fatalf("%s: no events", rel)
	}
}

func TestNewUserSampleGivesNewAdminChain(t *testing.T) {
	fs := sample(t, "deepbluecli/new-user-security.evtx", newadmin.New(caseconf.Default()))
	var chain *event.Finding
	for i := range fs {
		t.Logf("%s %s %s: %s | %s", fs[i].Severity, fs[i].RuleID, fs[i].User, fs[i].Summary, fs[i].Reason)
		if fs[i].RuleID == "newadmin.created_privileged" {
			chain = &fs[i]
		}
	}
	if chain == nil {
		t.Fatal("no newadmin.created_privileged finding")
	}
	if chain.User != "IEUser" || event.Rank(chain.Severity) < event.Rank(event.SevHigh) || chain.Host != "IE8Win7" {
		t.Errorf("chain: %s %s on %s", chain.Severity, chain.User, chain.Host)
	}
	for _, want := range []string{"created", "Administrators", `WORKGROUP\WIN-QALA5Q3KJ43$`} {
		if !strings.Contains(chain.Summary, want) {
			t.Errorf("summary %q lacks %q", chain.Summary, want)
		}
	}
	if len(chain.Refs) < 3 {
		t.Errorf("refs %d, want the 4720 and both 4732s", len(chain.Refs))
	}
}

func TestInvokeObfuscationSamplesAreDecoded(t *testing.T) {
	for _, name := range []string{"Powershell-Invoke-Obfuscation-string-menu.evtx", "Powershell-Invoke-Obfuscation-encoding-menu.evtx", "Powershell-Invoke-Obfuscation-many.evtx"} {
		t.Run(name, func(t *testing.T) {
			fs := sample(t, "deepbluecli/"+name, psrecon.New(caseconf.Default()))
			decoded := 0
			for _, f := range fs {
				if i := strings.Index(f.Summary, "Decoded: "); i >= 0 && strings.Contains(f.Summary[i:], "Invoke-Mimikatz") && strings.Contains(f.Summary[i:], "DownloadString") {
					decoded++
					if event.Rank(f.Severity) < event.Rank(event.SevHigh) || !slices.Contains(f.Tags, "attack.t1027") {
						t.Errorf("decoded finding %s tags %v", f.Severity, f.Tags)
					}
				}
			}
			if decoded == 0 {
				for _, f := range fs {
					t.Logf("%s %s: %.300s", f.Severity, f.RuleID, f.Summary)
				}
				t.Fatal("no finding shows the decoded Invoke-Mimikatz download cradle")
			}
		})
	}
}
