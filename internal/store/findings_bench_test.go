package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// BenchmarkWriteFindings writes 100,000 findings of one rule on one host
// (a brute force's), as the last stage of a hunt does.
func BenchmarkWriteFindings(b *testing.B) {
	st, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	fs := make([]event.Finding, 100000)
	for i := range fs {
		fs[i] = event.Finding{ID: fmt.Sprintf("f-%016x", i*7919), Time: t0.Add(time.Duration(i) * time.Second), End: t0.Add(time.Duration(i) * time.Second),
			RuleID: "72124974-a68b-4366-b990-d30e0b2a190d", Title: "Metasploit SMB Authentication", Severity: "high", Tags: []string{"attack.lateral-movement", "attack.t1021.002"},
			Host: "DC01.corp.local", User: fmt.Sprintf("user%d", i%50), Summary: fmt.Sprintf("Metasploit SMB Authentication: WorkstationName: ABCDEFGH%08d, TargetUserName: user%d", i, i%50),
			Reason: "Alerts on Metasploit host's authentications on the domain. (rule by X, SigmaHQ abc, DRL-1.1)", Analyzer: "rule",
			Refs:  []event.Ref{{Time: t0, Source: "evtx", Evidence: "C:/x/Security.evtx", Offset: int64(i), RecordID: int64(i), EventID: 4625, Host: "DC01"}},
			Shape: "event=security/4625|by=user|status=#|substatus=#|logontype=3"}
	}
	for b.Loop() {
		if err := st.WriteFindings(fs, nil); err != nil {
			b.Fatal(err)
		}
	}
}
