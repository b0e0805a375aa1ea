package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The demo report is read on paper and on screens; Chromium is the oracle
// for both (spoor never runs it).

// printPDF prints page (a file) to PDF in headless Chromium (A4, from the
// report's @page rule) and returns the number of pages.
func printPDF(t *testing.T, bin, page, pdf string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	args := append(chromiumArgs(filepath.Join(t.TempDir(), "profile")), "--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+page)
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("print to PDF: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	// Each page is one "/Type /Page" object ("/Type /Pages" is the tree).
	return len(regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(b, -1))
}

// withInjected copies the report with extra markup before </body> (and
// before </head>), dropping its Content-Security-Policy so a measuring
// script may run; the layout is the report's own.
func withInjected(t *testing.T, report, head, body string) string {
	t.Helper()
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>`).ReplaceAllString(string(b), "")
	if !strings.Contains(s, "</body>") || !strings.Contains(s, "</head>") {
		t.Fatal("report has no </head> or </body>")
	}
	s = strings.Replace(s, "</head>", head+"</head>", 1)
	s = strings.Replace(s, "</body>", body+"</body>", 1)
	out := filepath.Join(t.TempDir(), "injected.html")
	if err := os.WriteFile(out, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDemoReportPrints: the demo's report prints to at most 12 A4 pages,
// and page 1 is the executive summary, which names the 3 incidents and
// says that no new accounts and no exfiltration were found, with the
// evidence each "no" rests on.
func TestDemoReportPrints(t *testing.T) {
	bin := chromium(t)
	dir := demoStore(t)
	report := filepath.Join(dir, "report.html")
	pages := printPDF(t, bin, report, filepath.Join(t.TempDir(), "report.pdf"))
	t.Logf("demo report: %d A4 pages", pages)
	if pages < 3 || pages > 12 {
		t.Fatalf("the demo report prints to %d A4 pages, want 3..12", pages)
	}
	// Page 1 is everything up to the end of the summary: printed alone,
	// that part fills exactly one page.
	first := withInjected(t, report, `<style>@media print{#summary~*{display:none!important}}</style>`, "")
	if n := printPDF(t, bin, first, filepath.Join(t.TempDir(), "page1.pdf")); n != 1 {
		t.Fatalf("header and executive summary print to %d pages, want 1", n)
	}
	g := layout(t, bin, report, 1280, 800, "")
	sum := g.Summary
	for _, want := range []string{"3 incident(s)", "No new accounts", "No exfiltration", "basis:", "Security log events", "network events", "krbtgt", "Cut the remote access"} {
		if !strings.Contains(sum, want) {
			t.Errorf("page 1 lacks %q:\n%s", want, sum)
		}
	}
	ids := regexp.MustCompile(`INC-[0-9A-F]{10}`).FindAllString(sum, -1)
	if uniq(ids) != 3 {
		t.Errorf("page 1 names %d incidents (%v), want 3", uniq(ids), ids)
	}
}

func uniq(xs []string) int {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return len(m)
}

// geometry is what the measuring script reports.
type geometry struct {
	Width, Height, ScrollWidth int
	Main                       box
	Summary                    string
	SummaryBox                 box
	Tables, Figures, Pres      []box
	Cells                      []tdBox
	Story                      []storyRow
	Overflow                   []string // elements whose content does not fit them
}

type box struct{ Left, Top, Right, Bottom, Width, Height float64 }

type tdBox struct {
	Width float64
	Text  int
}

type storyRow struct{ TimeRight, TextLeft float64 }

const measure = `<script>
(function(){
  function b(e){var r=e.getBoundingClientRect();return {Left:r.left,Top:r.top,Right:r.right,Bottom:r.bottom,Width:r.width,Height:r.height};}
  function all(sel){return Array.prototype.map.call(document.querySelectorAll(sel),b);}
  var g={Width:window.innerWidth,Height:window.innerHeight,ScrollWidth:document.documentElement.scrollWidth,
    Main:b(document.querySelector('main')),Summary:document.querySelector('#summary').innerText,
    SummaryBox:b(document.querySelector('#summary')),
    Tables:all('main table'),Figures:all('#heatmap figure'),Pres:all('pre.cmd'),
    Cells:Array.prototype.filter.call(document.querySelectorAll('td'),function(td){return td.offsetParent!==null;}).map(function(td){return {Width:td.getBoundingClientRect().width,Text:td.innerText.length};}),
    Overflow:Array.prototype.filter.call(document.querySelectorAll('pre.cmd,ol.story .t,td,th,figcaption,h3,p,li'),function(e){return e.offsetParent!==null&&e.scrollWidth>e.clientWidth+1;}).map(function(e){return e.tagName+'.'+e.className+': '+e.textContent.slice(0,60);}),
    Story:Array.prototype.map.call(document.querySelectorAll('ol.story>li'),function(li){return {TimeRight:li.children[0].getBoundingClientRect().right,TextLeft:li.children[1].getBoundingClientRect().left};})};
  var pre=document.createElement('pre');pre.id='geometry';pre.textContent=JSON.stringify(g);document.body.appendChild(pre);
})();
</script>`

// layout opens the report at a window size, measures it, and (when shot
// is not "") saves a screenshot.
func layout(t *testing.T, bin, report string, w, h int, shot string) geometry {
	t.Helper()
	page := withInjected(t, report, "", measure)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	size := fmt.Sprintf("--window-size=%d,%d", w, h)
	args := append(chromiumArgs(filepath.Join(t.TempDir(), "profile")), "--hide-scrollbars", size, "--dump-dom", "file://"+page)
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	m := regexp.MustCompile(`(?s)<pre id="geometry">(.*?)</pre>`).FindSubmatch(out)
	if m == nil {
		t.Fatal("the measuring script did not run")
	}
	raw := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&amp;", "&").Replace(string(m[1]))
	var g geometry
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		t.Fatalf("geometry: %v", err)
	}
	if shot != "" {
		args := append(chromiumArgs(filepath.Join(t.TempDir(), "profile")), "--hide-scrollbars", size, "--screenshot="+shot, "file://"+report)
		if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
	}
	return g
}

// TestDemoReportLayout is the visual test: at desktop and laptop widths
// the report fits its window (nothing scrolls sideways, tables and
// commands stay inside the page, no cell is squeezed into letter-by-
// letter wrapping, no text runs out of its box, heat maps do not
// overlap, the story's clock column never runs into its text) and the summary starts on the first screen.
// SPOOR_SCREENSHOTS=DIR keeps the screenshots for a look.
func TestDemoReportLayout(t *testing.T) {
	bin := chromium(t)
	dir := demoStore(t)
	report := filepath.Join(dir, "report.html")
	shots := os.Getenv("SPOOR_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	for _, vp := range []struct {
		name string
		w, h int
	}{{"desktop", 1920, 1080}, {"laptop", 1366, 768}, {"narrow", 900, 900}} {
		t.Run(vp.name, func(t *testing.T) {
			shot := filepath.Join(shots, "report-"+vp.name+".png")
			g := layout(t, bin, report, vp.w, vp.h, shot)
			if g.Width < vp.w-20 || g.Width > vp.w {
				t.Fatalf("viewport %d px wide, asked for %d", g.Width, vp.w)
			}
			if g.ScrollWidth > g.Width {
				t.Errorf("the page scrolls sideways: %d px wide in a %d px window", g.ScrollWidth, g.Width)
			}
			inside := func(what string, bs []box) {
				for i, x := range bs {
					if x.Right > g.Main.Right+1 || x.Left < g.Main.Left-1 {
						t.Errorf("%s %d (%.0f–%.0f) sticks out of the page (%.0f–%.0f)", what, i, x.Left, x.Right, g.Main.Left, g.Main.Right)
					}
				}
			}
			inside("table", g.Tables)
			inside("heat map", g.Figures)
			inside("command", g.Pres)
			if len(g.Figures) < 2 || len(g.Pres) < 5 || len(g.Story) < 10 {
				t.Fatalf("too little measured: %d heat maps, %d commands, %d story lines", len(g.Figures), len(g.Pres), len(g.Story))
			}
			for _, o := range g.Overflow {
				t.Errorf("content runs out of its box: %s", o)
			}
			for i := range g.Figures {
				for j := i + 1; j < len(g.Figures); j++ {
					a, b := g.Figures[i], g.Figures[j]
					if a.Left < b.Right-1 && b.Left < a.Right-1 && a.Top < b.Bottom-1 && b.Top < a.Bottom-1 {
						t.Errorf("heat maps %d and %d overlap", i, j)
					}
				}
			}
			for _, c := range g.Cells {
				if c.Text > 3 && c.Width < 40 {
					t.Errorf("a table cell of %d characters is %.0f px wide", c.Text, c.Width)
				}
			}
			for i, r := range g.Story {
				if r.TimeRight > r.TextLeft+1 && r.TextLeft > r.TimeRight-200 && g.Width > 700 {
					t.Errorf("story line %d: the clock (to %.0f px) runs into the text (from %.0f px)", i, r.TimeRight, r.TextLeft)
				}
			}
			if g.SummaryBox.Top > float64(vp.h) {
				t.Errorf("the executive summary starts at %.0f px, below the first screen (%d px)", g.SummaryBox.Top, vp.h)
			}
			f, err := os.Open(shot)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			if b := img.Bounds(); b.Dx() != vp.w || b.Dy() != vp.h {
				t.Errorf("screenshot %v, want %dx%d", b, vp.w, vp.h)
			}
		})
	}
}
