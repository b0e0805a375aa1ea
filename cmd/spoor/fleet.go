package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spoor-dfir/spoor/internal/fleet"
	"github.com/spoor-dfir/spoor/internal/hunt"
	"github.com/spoor-dfir/spoor/internal/store"
)

// runFleet shows many clients of one provider at once: per client its
// out-of-pattern provider sessions and incidents, across clients the
// indicators that recur and the order in which the attacker reached them.
func runFleet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fleet", stderr)
	run := fs.Bool("run", false, "first ingest each case folder's evidence/ into its store/ and hunt every client with its own case file")
	rehunt := fs.Bool("hunt", false, "first hunt every client store again with its own case file")
	var rulePaths stringList
	fs.Var(&rulePaths, "rules", "with --run or --hunt: extra rule file or folder (repeatable)")
	out := fs.String("o", "", "write the fleet HTML page here (default: fleet.html in PATH when it is the one PATH and a folder of clients)")
	jsonOut := fs.String("json", "", "write the fleet view as JSON here (- for stdout)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor fleet [--run|--hunt] [--rules PATH]... [-o FILE.html] [--json FILE|-] PATH...")
		fmt.Fprintln(stderr, "A PATH is a client store, a client folder (store/ and case.yaml), a case folder (case.yaml and evidence/), or a folder of those.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &usageError{"no PATH given"}
	}
	if *run && *rehunt {
		return &usageError{"--run already hunts; give one of --run and --hunt"}
	}
	clients, err := fleet.Discover(fs.Args())
	if err != nil {
		return err
	}
	if *run || *rehunt {
		for _, c := range clients {
			if err := ctx.Err(); err != nil {
				return err
			}
			// One client's failure is reported and the fleet goes on:
			// its view then says what is missing.
			if err := prepareClient(ctx, c, *run, rulePaths, stderr); err != nil {
				fmt.Fprintf(stderr, "fleet: %s: %v\n", c.Name, err)
			}
		}
	}
	v, err := fleet.Build(ctx, clients)
	if err != nil {
		return err
	}
	for _, c := range v.Clients {
		if c.Error != "" {
			fmt.Fprintf(stderr, "fleet: %s: %s\n", c.Name, c.Error)
		} else if !c.Hunted {
			fmt.Fprintf(stderr, "fleet: %s: not hunted yet (spoor hunt, or spoor fleet --hunt)\n", c.Name)
		}
	}
	html := *out
	if html == "" && fs.NArg() == 1 && len(clients) > 1 {
		// One PATH holding several clients is a fleet folder: the page
		// goes beside them.
		html = filepath.Join(fs.Arg(0), "fleet.html")
	}
	if html != "" {
		if err := writeFileWith(html, v.WriteHTML); err != nil {
			return err
		}
	}
	if *jsonOut == "-" {
		if err := v.WriteJSON(stdout); err != nil {
			return err
		}
	} else if *jsonOut != "" {
		if err := writeFileWith(*jsonOut, v.WriteJSON); err != nil {
			return err
		}
	}
	if *jsonOut != "-" {
		printFleet(stdout, v)
		if html != "" {
			fmt.Fprintf(stdout, "\nfleet page: %s\n", html)
		}
	}
	return nil
}

// prepareClient ingests (--run) and hunts one client with its case file.
func prepareClient(ctx context.Context, c fleet.Client, ingestToo bool, rulePaths []string, stderr io.Writer) error {
	cfg, err := loadCase(c.CaseFile)
	if err != nil {
		return err
	}
	var st *store.Store
	if ingestToo {
		if c.Evidence == "" {
			return fmt.Errorf("not a case folder (case.yaml beside evidence/): nothing to ingest")
		}
		if st, err = store.Open(c.Store); err != nil {
			return err
		}
		sum, err := doIngest(ctx, st, cfg, 0, "", []string{c.Evidence}, io.Discard)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "fleet: %s: ingest: %s\n", c.Name, sum)
	} else if st, err = store.OpenExisting(c.Store); err != nil {
		return err
	}
	res, err := doHunt(ctx, st, cfg, rulesetOptions(rulePaths, false, false, nil), false, hunt.Options{}, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "fleet: %s: %s\n", c.Name, res.Summary())
	return nil
}

// writeFileWith writes a file through a temporary name, so a failed
// write never leaves a half page behind.
func writeFileWith(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// printFleet is the terminal summary: the clients the attacker reached in
// order, then the recurring indicators.
func printFleet(w io.Writer, v *fleet.View) {
	fmt.Fprintf(w, "FLEET  %d clients, %d reached by the attacker\n", len(v.Clients), len(v.Touched))
	for _, t := range v.Touched {
		var c fleet.ClientView
		for _, x := range v.Clients {
			if x.Name == t.Client {
				c = x
			}
		}
		fmt.Fprintf(w, "  %2d. %-16s first %s  %d sessions  operators %s  from %s\n", t.Order, t.Client,
			t.First.UTC().Format("2006-01-02 15:04Z"), t.Sessions, strings.Join(c.Operators, ","), strings.Join(c.SourceIPs, ","))
	}
	fmt.Fprintf(w, "RECURRING INDICATORS (%d)\n", len(v.Indicators))
	for _, in := range v.Indicators {
		names := make([]string, len(in.Clients))
		for i, s := range in.Clients {
			names[i] = s.Client
		}
		fmt.Fprintf(w, "  %s  %-9s %-40s %s\n", in.First.UTC().Format("2006-01-02 15:04Z"), in.Kind, cell(in.Value, 40), strings.Join(names, ","))
	}
}
