package rule

import (
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
)

// TestVocabularyCompiles: every listed column and helper example compiles
// as a condition, and a name that is neither does not.
func TestVocabularyCompiles(t *testing.T) {
	cfg := caseconf.Default()
	cols := Columns()
	if len(cols) < 25 {
		t.Fatalf("only %d columns", len(cols))
	}
	for _, c := range cols {
		zero := map[string]string{"string": `""`, "time": "time", "int32": "0", "int64": "0", "int": "0"}[c.Type]
		if zero == "" {
			t.Errorf("column %s has an unlisted type %s", c.Name, c.Type)
			continue
		}
		if _, err := CompileValue(cfg, c.Name+" == "+zero); err != nil {
			t.Errorf("column %s: %v", c.Name, err)
		}
	}
	for _, h := range Helpers() {
		if _, err := CompileValue(cfg, h.Usage); err != nil {
			t.Errorf("helper %s: %v", h.Usage, err)
		}
	}
	if _, err := CompileValue(cfg, "no_such_helper(user)"); err == nil {
		t.Error("an unknown helper compiles")
	}
}
