package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spoor-dfir/spoor/internal/attack"
	"github.com/spoor-dfir/spoor/internal/event"
)

//go:embed report.html.tmpl
var htmlTemplate string

var weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// svgCell is one rectangle of a chart; text goes into <title>.
type svgCell struct {
	X, Y, W, H int
	Fill       string
	Stroke     string
	Title      string
}

// svgLabel is one text label of a chart.
type svgLabel struct {
	X, Y   int
	Text   string
	Anchor string
}

// svgChart is a chart drawn by the template as inline SVG.
type svgChart struct {
	W, H   int
	Cells  []svgCell
	Labels []svgLabel
	Title  string
	Sub    string
}

func heatChart(h Heatmap) svgChart {
	const cw, ch, left, top = 16, 14, 34, 16
	c := svgChart{W: left + 24*cw + 4, H: top + 7*ch + 4, Title: h.Identity,
		Sub: fmt.Sprintf("%d accesses, %d outside business hours; %s", h.Total, h.Outside, strings.Join(h.Sources, ", "))}
	for hr := 0; hr < 24; hr += 3 {
		c.Labels = append(c.Labels, svgLabel{X: left + hr*cw + cw/2, Y: 11, Text: fmt.Sprintf("%02d", hr), Anchor: "middle"})
	}
	for d := 0; d < 7; d++ {
		c.Labels = append(c.Labels, svgLabel{X: left - 5, Y: top + d*ch + ch - 4, Text: weekdays[d], Anchor: "end"})
		for hr := 0; hr < 24; hr++ {
			n := h.Cells[d][hr]
			fill := "#f1f3f5"
			if h.Business[d][hr] {
				fill = "#e3f1e6"
			}
			stroke := ""
			if n > 0 && h.Max > 0 {
				a := 0.25 + 0.75*float64(n)/float64(h.Max)
				fill = fmt.Sprintf("rgba(192,57,43,%.2f)", a)
				if !h.Business[d][hr] {
					stroke = "#212529" // out of pattern: an access outside business hours
				}
			}
			c.Cells = append(c.Cells, svgCell{X: left + hr*cw, Y: top + d*ch, W: cw - 2, H: ch - 2, Fill: fill, Stroke: stroke,
				Title: fmt.Sprintf("%s %02d:00–%02d:59: %d", weekdays[d], hr, hr, n)})
		}
	}
	return c
}

// sevFill colours a day by its highest finding (-1: none).
var sevFill = map[int]string{-1: "#ced4da", 0: "#868e96", 1: "#1971c2", 2: "#e67700", 3: "#c92a2a", 4: "#862e9c"}

func activityChart(days []DayCount) svgChart {
	const left, top, height = 50, 10, 120
	if len(days) == 0 {
		return svgChart{W: 200, H: 40}
	}
	bw := max(3, min(24, 900/len(days)))
	c := svgChart{W: left + bw*len(days) + 10, H: top + height + 30, Title: "events per day"}
	var peak int64
	for _, d := range days {
		peak = max(peak, d.Events)
	}
	if peak == 0 {
		peak = 1
	}
	c.Labels = append(c.Labels, svgLabel{X: left - 4, Y: top + 10, Text: fmt.Sprint(peak), Anchor: "end"},
		svgLabel{X: left - 4, Y: top + height, Text: "0", Anchor: "end"},
		svgLabel{X: left + bw*len(days), Y: top + height + 16, Text: days[len(days)-1].Day, Anchor: "end"})
	for i, d := range days {
		h := int(int64(height) * d.Events / peak)
		fill := sevFill[d.MaxSev]
		if fill == "" {
			fill = sevFill[-1]
		}
		sev := "no findings"
		if d.MaxSev >= 0 {
			sev = fmt.Sprintf("%d findings, highest %s", d.Findings, event.Severities[d.MaxSev])
		}
		c.Cells = append(c.Cells, svgCell{X: left + i*bw, Y: top + height - h, W: bw - 1, H: max(h, 2), Fill: fill,
			Title: fmt.Sprintf("%s: %d events, %s", d.Day, d.Events, sev)})
		if i%max(1, len(days)/6) == 0 && i+len(days)/12 < len(days) {
			c.Labels = append(c.Labels, svgLabel{X: left + i*bw, Y: top + height + 16, Text: d.Day, Anchor: "start"})
		}
	}
	return c
}

func funcs(d *Data) template.FuncMap {
	return template.FuncMap{
		"local": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(d.loc).Format("2006-01-02 15:04:05 -07:00")
		},
		"utc": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(d.loc).Format("15:04:05 -07:00")
		},
		"day": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(d.loc).Format("2006-01-02")
		},
		"clip":     clip,
		"people":   People,
		"head":     cmdHead,
		"heat":     heatChart,
		"activity": activityChart,
		"upper":    strings.ToUpper,
		"techs":    techs,
		"join":     strings.Join,
		"size":     humanSize,
		"refs":     refList,
		"details": func(f event.Finding) string {
			if f.Details == nil || f.Details.Len() == 0 {
				return ""
			}
			b, _ := event.MarshalFields(f.Details)
			return string(b)
		},
	}
}

// maxRefsShown bounds the references the report lists per item; the
// appendix file has them all.
const maxRefsShown = 20

func refList(refs []event.Ref) []string {
	var out []string
	for i, r := range refs {
		if i == maxRefsShown {
			out = append(out, fmt.Sprintf("… and %d more in the appendix", len(refs)-maxRefsShown))
			break
		}
		s := fmt.Sprintf("%s @ %d", r.Evidence, r.Offset)
		if r.EventID != 0 {
			s += fmt.Sprintf(" (event %d)", r.EventID)
		}
		out = append(out, s)
	}
	return out
}

// cmdText is a command as the story shows it: its first lines, and the
// whole text folded when it is long (a script pasted into a console).
type cmdText struct {
	Head, Full string
	Lines      int
	More       bool
}

// cmdHeadLines and cmdHeadBytes bound the unfolded part of a command.
const cmdHeadLines, cmdHeadBytes = 6, 600

func cmdHead(s string) cmdText {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	c := cmdText{Head: s, Full: s, Lines: len(lines)}
	if len(lines) > cmdHeadLines {
		c.Head, c.More = strings.Join(lines[:cmdHeadLines], "\n")+"\n…", true
	}
	if len(c.Head) > cmdHeadBytes {
		c.Head, c.More = clip(c.Head, cmdHeadBytes), true
	}
	return c
}

// clip shortens s to about n bytes at a word boundary, never inside a
// word or a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
	}
	return strings.TrimRight(s[:cut], " ,;") + " …"
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// HTML writes the self-contained HTML report. Everything from the logs
// goes through html/template's contextual escaping; the page loads
// nothing (a Content-Security-Policy forbids it) and runs no script.
func HTML(w io.Writer, d *Data) error {
	t, err := template.New("report").Funcs(funcs(d)).Parse(htmlTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, d)
}

// techs lists the ATT&CK techniques of a finding's tags ([]string) or of
// several findings ([]event.Finding), comma-separated ("" when none).
func techs(v any) string {
	var tags []string
	switch x := v.(type) {
	case []string:
		tags = x
	case []event.Finding:
		for _, f := range x {
			tags = append(tags, f.Tags...)
		}
	}
	return strings.Join(attack.Techniques(tags), ", ")
}
