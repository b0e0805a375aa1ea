package attack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

func TestTechniquesAndTactics(t *testing.T) {
	tags := []string{"attack.discovery", "attack.t1087.001", "attack.T1059", "attack.t1087.001", "attack.lateral_movement",
		"attack.lateral-movement", "attack.g0016", "attack.s0002", "car.2016-04-005", "attack.t10870"}
	if got, want := Techniques(tags), []string{"T1059", "T1087.001"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Techniques = %v, want %v", got, want)
	}
	if got, want := Tactics(tags), []string{"discovery", "lateral-movement"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Tactics = %v, want %v", got, want)
	}
	if Techniques(nil) != nil || Tactics([]string{"x"}) != nil {
		t.Error("no tags must give nil")
	}
}

func findingsFixture() []event.Finding {
	t0 := time.Date(2026, 3, 7, 22, 15, 0, 0, time.UTC)
	return []event.Finding{
		{Title: "Recon burst", Severity: "high", Host: "DC01", Time: t0, End: t0.Add(10 * time.Minute), Tags: []string{"attack.discovery", "attack.t1087.002", "attack.t1135"}},
		{Title: "Net user", Severity: "low", Host: "FS01", Time: t0.Add(-time.Hour), Tags: []string{"attack.t1087.002"}},
		{Title: "Cleared log", Severity: "critical", Host: "DC01", Time: t0.Add(time.Hour), Tags: []string{"attack.t1070.001"}},
		{Title: "Info only", Severity: "info", Host: "PC-001", Time: t0, Tags: []string{"attack.t1016"}},
		{Title: "No technique", Severity: "high", Host: "PC-001", Time: t0},
	}
}

func TestLayerScoresBySeverity(t *testing.T) {
	l := NewLayer("case", findingsFixture(), "", time.UTC)
	got := map[string]int{}
	for _, tq := range l.Techniques {
		got[tq.TechniqueID] = tq.Score
	}
	want := map[string]int{"T1087.002": Score("high"), "T1135": Score("high"), "T1070.001": Score("critical"), "T1016": Score("info")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scores = %v, want %v", got, want)
	}
	if l.Techniques[0].TechniqueID != "T1016" {
		t.Errorf("techniques not sorted by ID: %v", l.Techniques[0].TechniqueID)
	}
	for _, tq := range l.Techniques {
		if tq.TechniqueID == "T1087.002" && !strings.HasPrefix(tq.Comment, "2 findings (1 high, 1 low)") {
			t.Errorf("T1087.002 comment %q", tq.Comment)
		}
	}
	// --min-severity drops the info finding and its technique.
	l = NewLayer("case", findingsFixture(), "low", time.UTC)
	for _, tq := range l.Techniques {
		if tq.TechniqueID == "T1016" {
			t.Error("info technique kept with min severity low")
		}
	}
}

func TestLayerDeterministic(t *testing.T) {
	fs := findingsFixture()
	a, err := NewLayer("case", fs, "", time.UTC).JSON()
	if err != nil {
		t.Fatal(err)
	}
	rev := make([]event.Finding, len(fs))
	for i := range fs {
		rev[len(fs)-1-i] = fs[i]
	}
	b, _ := NewLayer("case", rev, "", time.UTC).JSON()
	if string(a) != string(b) {
		t.Error("layer depends on finding order")
	}
}

// TestLayerValidates checks the rendered JSON, read back as plain maps,
// against the Navigator layer format 4.5 (required keys, types, value
// ranges), so a renamed struct tag or a wrong type fails here.
func TestLayerValidates(t *testing.T) {
	b, err := NewLayer("ComTech case", findingsFixture(), "", time.UTC).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if errs := validateLayer(b); len(errs) > 0 {
		t.Fatalf("layer does not validate:\n%s\n%s", strings.Join(errs, "\n"), b)
	}
	// The validator itself must catch a broken layer.
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "domain")
	m["techniques"].([]any)[0].(map[string]any)["techniqueID"] = "1087"
	m["gradient"].(map[string]any)["maxValue"] = 0
	bad, _ := json.Marshal(m)
	if errs := validateLayer(bad); len(errs) != 3 {
		t.Errorf("broken layer: %d errors, want 3: %v", len(errs), errs)
	}
}

var techID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
var hexColor = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

func validateLayer(b []byte) []string {
	var errs []string
	bad := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return []string{err.Error()}
	}
	if s, ok := m["name"].(string); !ok || s == "" {
		bad("name: required string")
	}
	switch m["domain"] {
	case "enterprise-attack", "mobile-attack", "ics-attack":
	default:
		bad("domain: %v", m["domain"])
	}
	if v, ok := m["versions"].(map[string]any); !ok {
		bad("versions: object")
	} else {
		if v["layer"] != "4.5" {
			bad("versions.layer = %v", v["layer"])
		}
		nav, _ := v["navigator"].(string)
		parts := strings.Split(nav, ".")
		major, _ := strconv.Atoi(parts[0])
		minor := 0
		if len(parts) > 1 {
			minor, _ = strconv.Atoi(parts[1])
		}
		if major < 4 || (major == 4 && minor < 9) {
			bad("versions.navigator %q below 4.9.0", nav)
		}
	}
	if s, ok := m["sorting"].(float64); ok && (s < 0 || s > 3) {
		bad("sorting %v", s)
	}
	techs, ok := m["techniques"].([]any)
	if !ok {
		bad("techniques: array")
	}
	for i, x := range techs {
		tq, ok := x.(map[string]any)
		if !ok {
			bad("techniques[%d]: object", i)
			continue
		}
		if id, _ := tq["techniqueID"].(string); !techID.MatchString(id) {
			bad("techniques[%d].techniqueID %q", i, id)
		}
		if _, ok := tq["score"].(float64); !ok {
			bad("techniques[%d].score: number", i)
		}
		if _, ok := tq["enabled"].(bool); !ok {
			bad("techniques[%d].enabled: bool", i)
		}
		md, _ := tq["metadata"].([]any)
		for j, x := range md {
			e, _ := x.(map[string]any)
			if _, ok := e["name"].(string); !ok {
				bad("techniques[%d].metadata[%d].name", i, j)
			}
			if _, ok := e["value"].(string); !ok {
				bad("techniques[%d].metadata[%d].value", i, j)
			}
		}
	}
	g, ok := m["gradient"].(map[string]any)
	if !ok {
		bad("gradient: object")
	} else {
		cs, _ := g["colors"].([]any)
		if len(cs) < 2 {
			bad("gradient.colors: at least two")
		}
		for _, c := range cs {
			if s, _ := c.(string); !hexColor.MatchString(s) {
				bad("gradient colour %v", c)
			}
		}
		lo, ok1 := g["minValue"].(float64)
		hi, ok2 := g["maxValue"].(float64)
		if !ok1 || !ok2 || hi <= lo {
			bad("gradient min/max %v %v", g["minValue"], g["maxValue"])
		}
	}
	li, _ := m["legendItems"].([]any)
	for i, x := range li {
		e, _ := x.(map[string]any)
		if _, ok := e["label"].(string); !ok {
			bad("legendItems[%d].label", i)
		}
		if s, _ := e["color"].(string); !hexColor.MatchString(s) {
			bad("legendItems[%d].color", i)
		}
	}
	return errs
}
