package hunt

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest"
	"github.com/spoor-dfir/spoor/internal/store"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// comtechDir is the committed demo case (testdata/cases/comtech): the
// simulated supplier compromise with ground-truth labels.
func comtechDir(t testing.TB) string {
	t.Helper()
	p := filepath.Join(testutil.RepoRoot(t), "testdata", "cases", "comtech")
	if _, err := os.Stat(filepath.Join(p, "evidence")); err != nil {
		t.Skipf("demo case absent: %v", err)
	}
	return p
}

var comtech struct {
	once sync.Once
	dir  string
	cfg  *caseconf.Config
	err  error
}

// comtechStore ingests the demo case once per process (all parsers).
func comtechStore(t testing.TB) (*store.Store, *caseconf.Config) {
	t.Helper()
	src := comtechDir(t)
	comtech.once.Do(func() {
		comtech.cfg, comtech.err = caseconf.Load(filepath.Join(src, "case.yaml"))
		if comtech.err != nil {
			return
		}
		comtech.dir, comtech.err = os.MkdirTemp("", "spoor-hunt-comtech")
		if comtech.err != nil {
			return
		}
		var st *store.Store
		if st, comtech.err = store.Open(comtech.dir); comtech.err != nil {
			return
		}
		_, comtech.err = ingest.Run(context.Background(), ingest.Options{Store: st, Paths: []string{filepath.Join(src, "evidence")}, Config: comtech.cfg})
	})
	if comtech.err != nil {
		t.Fatal(comtech.err)
	}
	st, err := store.Open(comtech.dir)
	if err != nil {
		t.Fatal(err)
	}
	return st, comtech.cfg
}

// Every labelled attack session has recon findings from the built-in
// rules on its host inside the session: the rules see what the attacker
// typed.
func TestComtechSessionsHaveReconFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests the demo case")
	}
	st, cfg := comtechStore(t)
	res, err := Run(context.Background(), st, cfg, builtin(t, cfg), Options{NoAnalyzers: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(comtechDir(t), "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sessions := 0
	for sc.Scan() {
		var l struct {
			Kind      string
			Host      string
			Time, End time.Time
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if l.Kind != "rmm_session" {
			continue
		}
		sessions++
		var in []event.Finding
		for _, fd := range res.Findings {
			if strings.HasPrefix(fd.RuleID, "recon-") && strings.EqualFold(fd.Host, l.Host) && !fd.Time.Before(l.Time) && !fd.Time.After(l.End) {
				in = append(in, fd)
			}
		}
		if len(in) == 0 {
			t.Errorf("session on %s %v–%v: no recon finding", l.Host, l.Time, l.End)
		}
	}
	if sessions == 0 {
		t.Fatal("no rmm_session labels")
	}
}
