package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/spoor-dfir/spoor/internal/attack"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/search"
	"github.com/spoor-dfir/spoor/internal/summary"
	"github.com/spoor-dfir/spoor/internal/timeline"
)

// scanProgress returns a progress callback drawing a bar over the store's
// part files on a terminal, and nil elsewhere (data on stdout stays clean
// and logs stay free of bar redraws).
func scanProgress(stderr io.Writer, desc string) (func(done, total int), func()) {
	if !isTerminal(stderr) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr),
					progressbar.OptionSetDescription(desc), progressbar.OptionThrottle(200*time.Millisecond),
					progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}, func() {
			if bar != nil {
				bar.Finish()
			}
		}
}

// timelineProgress is scanProgress for timeline.Options.Progress, which
// counts events read; nil off a terminal.
func timelineProgress(stderr io.Writer, desc string) func(done, total int64) {
	if !isTerminal(stderr) {
		return nil
	}
	var bar *progressbar.ProgressBar
	return func(done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(desc),
				progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		bar.Set64(done)
		if done >= total {
			bar.Finish()
		}
	}
}

// outFile opens -o FILE, or returns stdout; close is a no-op for stdout.
func outFile(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// localTime formats t in the case zone with its offset ("" for zero).
func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04:05 -07:00")
}

// table writes rows as an aligned table, CSV (formula-safe) or JSON lines
// keyed by the header; every command's tabular output goes through it.
func writeTable(w io.Writer, format string, header []string, rows [][]string) error {
	switch format {
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
		for _, r := range rows {
			cells := make([]string, len(r))
			for i, c := range r {
				cells[i] = cell(c, 60)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		return tw.Flush()
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(header)
		for _, r := range rows {
			safe := make([]string, len(r))
			for i, c := range r {
				safe[i] = timeline.SafeCell(c)
			}
			cw.Write(safe)
		}
		cw.Flush()
		return cw.Error()
	case "jsonl":
		for _, r := range rows {
			var b strings.Builder
			b.WriteByte('{')
			for i, h := range header {
				if i > 0 {
					b.WriteByte(',')
				}
				k, _ := json.Marshal(h)
				v, _ := json.Marshal(r[i])
				b.Write(k)
				b.WriteByte(':')
				b.Write(v)
			}
			b.WriteString("}\n")
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
		}
		return nil
	}
	return &usageError{fmt.Sprintf("--format %q: want table, csv or jsonl", format)}
}

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("search", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (for the local-time column)")
	format := fs.String("format", "table", "table | csv | jsonl | timesketch")
	regex := fs.Bool("regex", false, "terms are regular expressions (RE2)")
	caseSens := fs.Bool("case-sensitive", false, "match case")
	all := fs.Bool("and", false, "every term must match (default: any)")
	limit := fs.Int("limit", 0, "stop after N matching events (0: all)")
	out := fs.String("o", "", "output file (default stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor search [--store DIR] [--regex] [--and] [--case-sensitive] [--format table|csv|jsonl|timesketch] [--limit N] [-o FILE] TERM...")
		fmt.Fprintln(stderr, "Finds events with TERM in any column or raw field, in time order, e.g.:")
		fmt.Fprintln(stderr, `  spoor search 185.220.101.7 mimikatz`)
		fmt.Fprintln(stderr, `  spoor search --regex '(?i)\\\\[^\\]+\\ADMIN\$'`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"want at least one TERM"}
	}
	opts := search.Options{Regex: *regex, CaseSensitive: *caseSens, All: *all, Limit: *limit}
	m, err := search.NewMatcher(fs.Args(), opts)
	if err != nil {
		return &usageError{err.Error()}
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	var done func()
	opts.Progress, done = scanProgress(stderr, "search")
	evs, truncated, err := search.Run(ctx, st, m, opts)
	done()
	if err != nil {
		return err
	}
	w, closeW, err := outFile(*out, stdout)
	if err != nil {
		return err
	}
	loc := cfg.Location()
	var sink timeline.Sink
	switch *format {
	case "csv":
		sink = timeline.NewCSV(w, loc)
	case "jsonl":
		sink = timeline.NewJSONL(w, loc, false)
	case "timesketch":
		sink = timeline.NewJSONL(w, loc, true)
	case "table":
		rows := make([][]string, len(evs))
		for i := range evs {
			ev := &evs[i]
			rows[i] = []string{localTime(ev.Time, loc), ev.Host, ev.Source, itoaZero(int64(ev.EventID)), ev.User, timeline.Message(ev)}
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME ("+cfg.Timezone+")\tHOST\tSOURCE\tID\tUSER\tSUMMARY")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r[0], cell(r[1], 20), r[2], r[3], cell(r[4], 24), cell(r[5], 140))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	default:
		return &usageError{fmt.Sprintf("--format %q: want table, csv, jsonl or timesketch", *format)}
	}
	if sink != nil {
		for i := range evs {
			if err := sink.Write(&timeline.Entry{Time: evs[i].Time, Event: &evs[i]}); err != nil {
				return err
			}
		}
		if err := sink.Close(); err != nil {
			return err
		}
	}
	if err := closeW(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "search: %d matching events", len(evs))
	if truncated {
		fmt.Fprintf(stderr, " (stopped at --limit %d; the first matches in store order, then sorted by time)", *limit)
	}
	fmt.Fprintln(stderr)
	return nil
}

func itoaZero(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func runLogons(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("logons", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (provider identities, time zone)")
	format := fs.String("format", "table", "table | csv | jsonl")
	system := fs.Bool("system", false, "keep logons of SYSTEM, LOCAL/NETWORK SERVICE, ANONYMOUS LOGON and the DWM/UMFD session accounts")
	failures := fs.Bool("failures", false, "only rows with failed logons")
	out := fs.String("o", "", "output file (default stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor logons [--store DIR] [--format table|csv|jsonl] [--system] [--failures] [-o FILE]")
		fmt.Fprintln(stderr, "Logon summary from Security 4624 (success) and 4625 (failure): by account, host, logon type and source address,")
		fmt.Fprintln(stderr, "with first and last seen in the case zone; provider identities are marked.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &usageError{"logons takes no arguments"}
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	progress, done := scanProgress(stderr, "logons")
	rows, err := summary.Logons(ctx, st, cfg, summary.LogonOptions{System: *system, Failures: *failures}, progress)
	done()
	if err != nil {
		return err
	}
	loc := cfg.Location()
	header := []string{"account", "host", "logon_type", "type_name", "source", "success", "failure", "first_seen", "last_seen", "provider"}
	table := make([][]string, len(rows))
	var ok, bad int64
	for i, r := range rows {
		table[i] = []string{r.Account, r.Host, itoaZero(int64(r.LogonType)), summary.LogonTypeName(r.LogonType), r.Source,
			strconv.FormatInt(r.Success, 10), strconv.FormatInt(r.Failure, 10), localTime(r.First, loc), localTime(r.Last, loc), r.Provider}
		ok += r.Success
		bad += r.Failure
	}
	w, closeW, err := outFile(*out, stdout)
	if err != nil {
		return err
	}
	if err := writeTable(w, *format, header, table); err != nil {
		return err
	}
	if err := closeW(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "logons: %d rows, %d successful and %d failed logons\n", len(rows), ok, bad)
	return nil
}

func runMetrics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("metrics", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (time zone)")
	format := fs.String("format", "table", "table | csv | jsonl")
	by := fs.String("by", "all", "eid | channel | host | evidence | all")
	out := fs.String("o", "", "output file (default stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor metrics [--store DIR] [--by eid|channel|host|evidence|all] [--format table|csv|jsonl] [-o FILE]")
		fmt.Fprintln(stderr, "Events per event id, channel, host and evidence file, with the time range each covers.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &usageError{"metrics takes no arguments"}
	}
	tables := []string{"eid", "channel", "host", "evidence"}
	if *by != "all" {
		if _, ok := summary.MetricsHeaders[*by]; !ok {
			return &usageError{fmt.Sprintf("--by %q: want eid, channel, host, evidence or all", *by)}
		}
		tables = []string{*by}
	}
	if *format != "table" && *format != "csv" && *format != "jsonl" {
		return &usageError{fmt.Sprintf("--format %q: want table, csv or jsonl", *format)}
	}
	if *format == "csv" && len(tables) > 1 {
		return &usageError{"--format csv writes one table: choose it with --by"}
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	progress, done := scanProgress(stderr, "metrics")
	m, err := summary.CollectMetrics(ctx, st, progress)
	done()
	if err != nil {
		return err
	}
	w, closeW, err := outFile(*out, stdout)
	if err != nil {
		return err
	}
	loc := cfg.Location()
	for i, name := range tables {
		counts := map[string][]summary.Count{"eid": m.ByEventID, "channel": m.ByChannel, "host": m.ByHost, "evidence": m.ByEvidence}[name]
		header := append([]string{}, summary.MetricsHeaders[name]...)
		if *format == "jsonl" {
			header = append([]string{"table"}, header...)
		}
		header = append(header, "events", "percent", "first", "last")
		rows := make([][]string, len(counts))
		for j, c := range counts {
			r := append([]string{}, c.Key...)
			if *format == "jsonl" {
				r = append([]string{name}, r...)
			}
			pct := 0.0
			if m.Total > 0 {
				pct = 100 * float64(c.Events) / float64(m.Total)
			}
			rows[j] = append(r, strconv.FormatInt(c.Events, 10), strconv.FormatFloat(pct, 'f', 2, 64), localTime(c.First, loc), localTime(c.Last, loc))
		}
		if *format == "table" {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "== events by %s ==\n", map[string]string{"eid": "event id", "channel": "channel", "host": "host", "evidence": "evidence file"}[name])
		}
		if err := writeTable(w, *format, header, rows); err != nil {
			return err
		}
	}
	if err := closeW(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "metrics: %d events from %s to %s, %d hosts, %d evidence files\n", m.Total, localTime(m.First, loc), localTime(m.Last, loc), len(m.ByHost), len(m.ByEvidence))
	return nil
}

func runAttackLayer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("attack-layer", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (name, time zone)")
	minSev := fs.String("min-severity", "", "leave out findings below this severity")
	name := fs.String("name", "", "layer name (default: the case name)")
	out := fs.String("o", "", "output file (default stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor attack-layer [--store DIR] [--min-severity S] [--name NAME] [-o layer.json]")
		fmt.Fprintln(stderr, "Writes an ATT&CK Navigator layer (format 4.5) of the last hunt's findings, each technique scored by")
		fmt.Fprintln(stderr, "the highest severity seen (1 info … 5 critical); open it in the Navigator with 'Open Existing Layer'.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return &usageError{"attack-layer takes no arguments"}
	}
	if err := checkSeverity("--min-severity", *minSev); err != nil {
		return err
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	findings, err := st.Findings()
	if err != nil {
		return err
	}
	n := *name
	if n == "" {
		n = cfg.Name
	}
	if n == "" {
		n = "spoor findings"
	}
	l := attack.NewLayer(n, findings, *minSev, cfg.Location())
	b, err := l.JSON()
	if err != nil {
		return err
	}
	w, closeW, err := outFile(*out, stdout)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	if err := closeW(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "attack-layer: %d techniques from %d findings\n", len(l.Techniques), len(findings))
	return nil
}

// checkSeverity rejects an unknown severity name in flag.
func checkSeverity(flag, sev string) error {
	if sev != "" && event.Rank(sev) < 0 {
		return &usageError{fmt.Sprintf("%s %q: want info, low, medium, high or critical", flag, sev)}
	}
	return nil
}
