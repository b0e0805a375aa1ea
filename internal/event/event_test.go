package event

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/Velocidex/ordereddict"
)

// TestMayHoldNeverRulesOutAValue: whenever a raw field value holds the
// word (any case), MayHold says it may, whether the text spells the
// letters as themselves or as \u escapes; it rules out text without it.
func TestMayHoldNeverRulesOutAValue(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alpha := []string{"a", "P", "p", "o", "L", " ", `\`, `"`, "é", "\n"}
	escaped := 0
	for i := 0; i < 5000; i++ {
		d := ordereddict.NewDict()
		for k := 0; k < 1+r.Intn(4); k++ {
			var v strings.Builder
			for n := r.Intn(14); n > 0; n-- {
				v.WriteString(alpha[r.Intn(len(alpha))])
				if r.Intn(40) == 0 {
					v.WriteString([]string{"apppool", "AppPool", "APPPOOL", "appPoo"}[r.Intn(4)])
				}
			}
			d.Set(fmt.Sprintf("F%d", k), v.String())
		}
		text, err := MarshalFields(d)
		if err != nil {
			t.Fatal(err)
		}
		raw := string(text)
		if r.Intn(3) == 0 {
			raw = strings.ReplaceAll(raw, "p", `\u0070`) // legal JSON, the same value
		}
		ev := &Event{RawFields: raw}
		holds := false
		for _, it := range d.Items() {
			holds = holds || strings.Contains(strings.ToLower(it.Value.(string)), "apppool")
		}
		if holds && !ev.MayHold("apppool") {
			t.Fatalf("%s holds apppool, MayHold says no", raw)
		}
		if holds && strings.Contains(raw, `\u0070`) {
			escaped++
		}
	}
	if escaped == 0 {
		t.Fatal("no value held the word with its letters escaped: nothing was checked")
	}
	if (&Event{RawFields: `{"User":"CORP\\bob","Image":"C:\\x.exe"}`}).MayHold("apppool") {
		t.Error("a record without the word may hold it, says MayHold")
	}
	if !(&Event{RawFields: `{"User":"IIS APPPOOL\\DefaultAppPool"}`}).MayHold("apppool") {
		t.Error("an app pool account ruled out")
	}
}
