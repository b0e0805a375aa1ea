package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hostileEvidence writes a small RMM audit export whose commands carry
// HTML and spreadsheet-formula payloads, as a hostile log would.
func hostileEvidence(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "evidence")
	os.MkdirAll(dir, 0o755)
	lines := []string{
		`{"time":"2026-11-14T23:10:00+01:00","tool":"screenconnect","event":"session_start","session_id":"s1","operator":"ct-x","source_ip":"203.0.113.9","host":"DC01","command":""}`,
		`{"time":"2026-11-14T23:11:00+01:00","tool":"screenconnect","event":"command","session_id":"s1","operator":"ct-x","source_ip":"203.0.113.9","host":"DC01","command":"net user /domain \"<script>alert(1)</script>\""}`,
		`{"time":"2026-11-14T23:12:00+01:00","tool":"screenconnect","event":"command","session_id":"s1","operator":"ct-x","source_ip":"203.0.113.9","host":"DC01","command":"=HYPERLINK(\"http://evil.example/x\",\"click\")"}`,
		`{"time":"2026-11-14T23:20:00+01:00","tool":"screenconnect","event":"session_end","session_id":"s1","operator":"ct-x","source_ip":"203.0.113.9","host":"DC01","command":""}`,
	}
	if err := os.WriteFile(filepath.Join(dir, "audit.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestTimelineCSVNeutralisesFormulas(t *testing.T) {
	ev := hostileEvidence(t)
	st := t.TempDir()
	if code, _, stderr := spoor(t, "run", "--store", st, ev); code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	code, out, stderr := spoor(t, "timeline", "--store", st, "--format", "csv")
	if code != 0 {
		t.Fatalf("timeline: %d %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0][:3], ",") != "datetime,timestamp_desc,message" {
		t.Fatalf("Timesketch columns: %v", rows[0][:3])
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	seen := false
	for _, r := range rows[1:] {
		for i, c := range r {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Fatalf("live formula in column %s: %q", rows[0][i], c)
			}
		}
		if r[col["command_line"]] == `'=HYPERLINK("http://evil.example/x","click")` {
			seen = true
		}
		if _, err := time.Parse(time.RFC3339Nano, r[col["datetime"]]); err != nil {
			t.Fatalf("datetime %q: %v", r[col["datetime"]], err)
		}
	}
	if !seen {
		t.Fatal("the HYPERLINK command is not in the timeline (neutralised)")
	}
}

func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no headless Chromium (apt-get install chromium)")
	return ""
}

func chromiumArgs(profile string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter",
		"--user-data-dir=" + profile}
}

// TestReportInChromium opens the HTML report of a run in headless
// Chromium: the page makes no network request, logs no console error,
// has its key elements, and shows hostile log content as text.
func TestReportInChromium(t *testing.T) {
	bin := chromium(t)
	ev := hostileEvidence(t)
	dir := t.TempDir()
	st := filepath.Join(dir, "store")
	report := filepath.Join(dir, "report.html")
	if code, _, stderr := spoor(t, "run", "--store", st, "-o", report, ev); code != 0 {
		t.Fatalf("run: %d %s", code, stderr)
	}
	url := "file://" + report
	netlog := filepath.Join(dir, "net.json")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append(chromiumArgs(filepath.Join(dir, "profile1")), "--enable-logging=stderr", "--v=0",
		"--log-net-log="+netlog, "--dump-dom", url)
	cmd := exec.CommandContext(ctx, bin, args...)
	var dom, logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dom, &logs
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, logs.String())
	}
	page := dom.String()
	for _, id := range []string{`id="heatmap"`, `id="incidents"`, `id="evidence-table"`, `id="negatives"`, `class="heatmap"`} {
		if !strings.Contains(page, id) {
			t.Errorf("DOM lacks %s", id)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("a script element made it into the DOM")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile log line is not shown as text")
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "CONSOLE") || strings.Contains(line, "Refused to") || strings.Contains(line, "Uncaught") {
			t.Errorf("console: %s", line)
		}
	}
	nl, err := os.ReadFile(netlog)
	if err != nil {
		t.Fatalf("net log: %v", err)
	}
	// Chromium's own services (time, updates) may still phone home; the
	// page's content cannot name them (the unit test checks it has no
	// external reference at all), so any other host is the report's.
	internal := regexp.MustCompile(`^"url":"https?://[^/"]*\.(google\.com|gstatic\.com|googleapis\.com)[/"]`)
	for _, m := range regexp.MustCompile(`"url":"(https?|wss?|ftp)://[^"]*"`).FindAll(nl, -1) {
		if !internal.Match(m) {
			t.Errorf("network request from the report: %s", m)
		}
	}

	shot := filepath.Join(dir, "report.png")
	args = append(chromiumArgs(filepath.Join(dir, "profile2")), "--window-size=1280,2000", "--screenshot="+shot, url)
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Fatalf("screenshot size %v", b)
	}
	// Not blank: the page draws dark text on white.
	dark := 0
	for y := 0; y < 600; y += 3 {
		for x := 0; x < 1280; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r < 0x4000 && g < 0x4000 && b < 0x4000 {
				dark++
			}
		}
	}
	if dark < 100 {
		t.Fatalf("screenshot looks blank (%d dark pixels)", dark)
	}
}
