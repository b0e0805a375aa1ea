package fleet

import (
	_ "embed"
	"encoding/json"
	"html/template"
	"io"
	"time"
)

//go:embed fleet.html.tmpl
var pageTemplate string

// WriteJSON writes the view as indented JSON (deterministic: every list
// in the view is sorted).
func (v *View) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteHTML writes the fleet page: one self-contained HTML file. Each
// client's times are shown in its own case zone with the offset; the
// cross-client lists show UTC, the one clock all clients share.
func (v *View) WriteHTML(w io.Writer) error {
	zones := map[string]*time.Location{}
	for _, c := range v.Clients {
		loc, err := time.LoadLocation(c.Zone)
		if err != nil {
			loc = time.UTC
		}
		zones[c.Name] = loc
	}
	t, err := template.New("fleet").Funcs(template.FuncMap{
		"local": func(client string, t time.Time) string {
			loc := zones[client]
			if loc == nil {
				loc = time.UTC
			}
			return t.In(loc).Format("Mon 2006-01-02 15:04 -07:00")
		},
		"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") },
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
	}).Parse(pageTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, v)
}
