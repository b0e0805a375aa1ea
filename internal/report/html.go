package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

//go:embed report.html.tmpl
var htmlTemplate string

var weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// svgCell is one rectangle of a chart; text goes into <title>.
type svgCell struct {
	X, Y, W, H int
	Fill       string
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
}

func heatChart(h Heatmap) svgChart {
	const cw, ch, left, top = 22, 18, 40, 20
	c := svgChart{W: left + 24*cw + 10, H: top + 7*ch + 10, Title: h.Identity}
	for hr := 0; hr < 24; hr += 3 {
		c.Labels = append(c.Labels, svgLabel{X: left + hr*cw + cw/2, Y: 14, Text: fmt.Sprintf("%02d", hr), Anchor: "middle"})
	}
	for d := 0; d < 7; d++ {
		c.Labels = append(c.Labels, svgLabel{X: left - 6, Y: top + d*ch + ch - 5, Text: weekdays[d], Anchor: "end"})
		for hr := 0; hr < 24; hr++ {
			n := h.Cells[d][hr]
			fill := "#f1f3f5"
			if n > 0 && h.Max > 0 {
				a := 0.15 + 0.85*float64(n)/float64(h.Max)
				fill = fmt.Sprintf("rgba(192,57,43,%.2f)", a)
			}
			c.Cells = append(c.Cells, svgCell{X: left + hr*cw, Y: top + d*ch, W: cw - 2, H: ch - 2, Fill: fill,
				Title: fmt.Sprintf("%s %02d:00–%02d:59: %d", weekdays[d], hr, hr, n)})
		}
	}
	return c
}

func activityChart(days []DayCount) svgChart {
	const left, top, height, maxW = 50, 10, 140, 900
	if len(days) == 0 {
		return svgChart{W: 200, H: 40}
	}
	bw := max(3, min(24, maxW/len(days)))
	c := svgChart{W: left + bw*len(days) + 10, H: top + height + 40, Title: "events per day"}
	var peak int64
	for _, d := range days {
		peak = max(peak, d.Events)
	}
	if peak == 0 {
		peak = 1
	}
	c.Labels = append(c.Labels, svgLabel{X: left - 4, Y: top + 10, Text: fmt.Sprint(peak), Anchor: "end"},
		svgLabel{X: left - 4, Y: top + height, Text: "0", Anchor: "end"})
	for i, d := range days {
		h := int(int64(height) * d.Events / peak)
		fill := "#5c7cfa"
		if d.Findings > 0 {
			fill = "#e8590c"
		}
		c.Cells = append(c.Cells, svgCell{X: left + i*bw, Y: top + height - h, W: bw - 1, H: max(h, 1), Fill: fill,
			Title: fmt.Sprintf("%s: %d events, %d findings", d.Day, d.Events, d.Findings)})
		if i%max(1, len(days)/8) == 0 {
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
		"heat":     heatChart,
		"activity": activityChart,
		"upper":    strings.ToUpper,
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

func refList(refs []event.Ref) []string {
	var out []string
	for i, r := range refs {
		if i == 20 {
			out = append(out, fmt.Sprintf("… and %d more events", len(refs)-20))
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
