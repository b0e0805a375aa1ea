package firewall

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	dir := samplesDir(t)
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if fi.IsDir() || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".txt") {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		in := inputFromFile(t, p, rel, testConfig(t, ""))
		var scores []string
		for _, pp := range Parsers() {
			if s := pp.Detect(in); s > 0 {
				scores = append(scores, fmt.Sprintf("%s=%d", pp.Name(), s))
			}
		}
		b, _, _ := best(in)
		fmt.Printf("%-70s %v\n", rel, scores)
		if b == nil {
			return nil
		}
		evs, st := parseAll(t, b, in)
		fmt.Printf("    records=%d skipped=%d reasons=%v notes=%v\n", st.Records, st.Skipped, st.Reasons, st.Notes)
		for i, e := range evs {
			if i == 0 || i == len(evs)-1 || os.Getenv("EXPLORE") == "all" {
				fmt.Printf("    L%d %s host=%q %s:%d -> %s:%d %s act=%q out=%d in=%d user=%q\n", e.Offset, e.Time.Format("2006-01-02T15:04:05.999Z07:00"), e.Host, e.SrcIP, e.SrcPort, e.DstIP, e.DstPort, e.Protocol, e.Action, e.BytesOut, e.BytesIn, e.User)
			}
		}
		for _, e := range st.Errors {
			fmt.Println("    ERR", e)
		}
		return nil
	})
}
