package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/rule"
	"github.com/spoor-dfir/spoor/internal/timeline"
)

// errLimit stops a scan once --limit rows are out.
var errLimit = errors.New("limit reached")

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("query", stderr)
	storeDir := fs.String("store", defaultStore, "store directory")
	caseFile := fs.String("case", "", "case config (for the case-aware helpers)")
	format := fs.String("format", "table", "table | csv | jsonl")
	limit := fs.Int("limit", 0, "stop after N matching events (0: all)")
	fields := fs.Bool("fields", false, "list the columns and helper functions EXPR can use, and exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor query [--store DIR] [--case FILE] [--format table|csv|jsonl] [--limit N] EXPR")
		fmt.Fprintln(stderr, "       spoor query --fields   (the columns and helpers EXPR can use)")
		fmt.Fprintln(stderr, "EXPR is an expr condition over the event schema, as in rules, e.g.:")
		fmt.Fprintln(stderr, `  spoor query 'event_id == 4624 && logon_type == 10 && !business_hours(time)'`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *fields {
		return printVocabulary(stdout)
	}
	if fs.NArg() != 1 {
		return &usageError{"want exactly one EXPR (quote it)"}
	}
	cfg, st, err := openCase(*caseFile, *storeDir, stderr)
	if err != nil {
		return err
	}
	prog, err := rule.CompileExpr(cfg, fs.Arg(0))
	if err != nil {
		return &usageError{fmt.Sprintf("EXPR: %v", err)}
	}
	var out func(ev *event.Event) error
	var closeOut func() error
	switch *format {
	case "csv", "jsonl":
		var sink timeline.Sink
		if *format == "csv" {
			sink = timeline.NewCSV(stdout, cfg.Location())
		} else {
			sink = timeline.NewJSONL(stdout, cfg.Location(), false)
		}
		out = func(ev *event.Event) error { return sink.Write(&timeline.Entry{Time: ev.Time, Event: ev}) }
		closeOut = sink.Close
	case "table":
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME ("+cfg.Timezone+")\tHOST\tSOURCE\tID\tUSER\tSRC\tDST\tSUMMARY")
		rows := 0
		out = func(ev *event.Event) error {
			id := ""
			if ev.EventID != 0 {
				id = strconv.Itoa(int(ev.EventID))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.In(cfg.Location()).Format("2006-01-02 15:04:05 -07:00"),
				cell(ev.Host, 20), cell(ev.Source, 12), id, cell(ev.User, 24), cell(ev.SrcIP, 39), cell(ev.DstIP, 39), cell(timeline.Message(ev), 120))
			rows++
			// Flush in blocks so the table streams on big stores; column
			// widths are aligned within each block.
			if rows%500 == 0 {
				return tw.Flush()
			}
			return nil
		}
		closeOut = tw.Flush
	default:
		return &usageError{fmt.Sprintf("--format %q: want table, csv or jsonl", *format)}
	}
	// Matches come in time order (then source, evidence, offset), as in
	// a timeline, with the same bounded memory.
	n := 0
	var evalErrs int
	match := func(ev *event.Event) bool {
		ok, err := prog.Eval(ev)
		if err != nil {
			evalErrs++
			return false
		}
		return ok
	}
	_, err = timeline.Each(ctx, st, timeline.Options{EventsOnly: true, Match: match, Loc: cfg.Location(), Progress: timelineProgress(stderr, "query")}, func(e *timeline.Entry) error {
		n++
		if err := out(e.Event); err != nil {
			return err
		}
		if *limit > 0 && n >= *limit {
			return errLimit
		}
		return nil
	})
	if err != nil && !errors.Is(err, errLimit) {
		return err
	}
	if err := closeOut(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "query: %d matching events", n)
	if evalErrs > 0 {
		fmt.Fprintf(stderr, " (%d events could not be evaluated)", evalErrs)
	}
	fmt.Fprintln(stderr)
	return nil
}

// cell makes one table cell: one line, bounded.
func cell(s string, n int) string {
	s = termLine(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		return string(r[:n-1]) + "…"
	}
	return s
}

// printVocabulary lists what a query expression (or a rule condition)
// can read and call.
func printVocabulary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE")
	for _, c := range rule.Columns() {
		fmt.Fprintf(tw, "%s\t%s\n", c.Name, c.Type)
	}
	fmt.Fprintln(tw, "\nHELPER\tWHAT IT GIVES")
	for _, h := range rule.Helpers() {
		fmt.Fprintf(tw, "%s\t%s\n", h.Usage, h.Doc)
	}
	fmt.Fprintln(tw, "\nexpr's own operators and functions work too: && || ! == != < > in matches contains startsWith lower upper len …")
	return tw.Flush()
}
