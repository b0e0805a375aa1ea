package textfmt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// layout is one compiled timestamp layout.
type layout struct {
	kind   int // layoutGo, layoutEpoch
	goLay  string
	scale  float64 // epoch unit in seconds
	zoned  bool    // the reading carries its own offset
	noYear bool    // syslog-style, year must be supplied
}

const (
	layoutGo = iota
	layoutEpoch
)

func compileLayout(s string) (layout, error) {
	switch strings.ToLower(s) {
	case "rfc3339":
		return layout{kind: layoutGo, goLay: time.RFC3339Nano, zoned: true}, nil
	case "epoch":
		return layout{kind: layoutEpoch, scale: 1, zoned: true}, nil
	case "epoch_ms":
		return layout{kind: layoutEpoch, scale: 1e-3, zoned: true}, nil
	case "epoch_us":
		return layout{kind: layoutEpoch, scale: 1e-6, zoned: true}, nil
	case "epoch_ns":
		return layout{kind: layoutEpoch, scale: 1e-9, zoned: true}, nil
	}
	if !strings.Contains(s, "15") && !strings.Contains(s, "03") && !strings.Contains(s, "3:") {
		return layout{}, fmt.Errorf("layout %q has no hour (Go layouts use the reference time Mon Jan 2 15:04:05 MST 2006)", s)
	}
	l := layout{kind: layoutGo, goLay: s}
	l.zoned = strings.Contains(s, "Z07") || strings.Contains(s, "-07") || strings.Contains(s, "MST") || strings.Contains(s, "Z0700")
	l.noYear = !strings.Contains(s, "2006") && !strings.Contains(s, "06")
	return l, nil
}

// parse reads v; ok=false when v does not fit. For zone-less layouts the
// result is a wall-clock reading (fields only) to be placed by Wall.
func (l layout) parse(v string) (t time.Time, ok bool) {
	if l.kind == layoutEpoch {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, false
		}
		sec := f * l.scale
		if sec < -1e11 || sec > 1e11 {
			return time.Time{}, false
		}
		whole := math.Floor(sec)
		return time.Unix(int64(whole), int64((sec-whole)*1e9)).UTC(), true
	}
	t, err := time.Parse(l.goLay, v)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
