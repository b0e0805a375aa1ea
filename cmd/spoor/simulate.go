package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/simulate"
)

// runSimulate writes the supplier-compromise scenario as evidence files
// with case.yaml and labels.jsonl.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", stderr)
	out := fs.String("out", "", "output directory (required)")
	scenario := fs.String("scenario", "comtech", "scenario: "+strings.Join(simulate.Scenarios, ", "))
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives byte-identical output")
	hosts := fs.Int("hosts", 12, "number of hosts (5 servers, the rest clients)")
	days := fs.Int("days", 30, "length of the period in days, ending Monday 2026-11-16 09:00 Europe/Berlin")
	size := fs.String("size", "", "write a benchmark corpus of about this size of normal life (e.g. 1GiB, 500MB)")
	clients := fs.Int("clients", 0, "write a fleet: this many client case folders of one MSP (client-01, …) with fleet-labels.jsonl")
	touched := fs.Int("touched", 0, "with --clients: how many clients the attacker reaches, one week apart (default: a quarter)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: spoor simulate --out DIR [--scenario NAME] [--seed N] [--hosts N] [--days N] [--size BYTES]")
		fmt.Fprintln(stderr, "       spoor simulate --out DIR --clients N [--touched K] [--seed N] [--hosts N] [--days N]")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return &usageError{"--out DIR is required and no arguments are taken"}
	}
	if *clients > 0 {
		if *size != "" || *scenario != "comtech" {
			return &usageError{"--clients writes its own scenarios; it takes neither --scenario nor --size"}
		}
		return simulateFleet(simulate.FleetOptions{Out: *out, Clients: *clients, Touched: *touched, Seed: *seed, Hosts: *hosts, Days: *days}, stdout)
	}
	known := false
	for _, sc := range simulate.Scenarios {
		known = known || sc == *scenario
	}
	if !known {
		return &usageError{fmt.Sprintf("unknown scenario %q (known: %s)", *scenario, strings.Join(simulate.Scenarios, ", "))}
	}
	o := simulate.Options{Out: *out, Scenario: *scenario, Seed: *seed, Hosts: *hosts, Days: *days}
	if *size != "" {
		n, err := simulate.ParseSize(*size)
		if err != nil || n <= 0 {
			return &usageError{fmt.Sprintf("--size %q: want a positive size such as 1GiB or 500MB", *size)}
		}
		o.Size = n
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	sum, err := simulate.Run(o)
	if err != nil {
		return err
	}
	el := time.Since(start)
	mbs := float64(sum.Bytes) / 1e6 / max(el.Seconds(), 1e-9)
	fmt.Fprintf(stdout, "simulate: scenario %s seed %d: %d files, %s bytes of evidence, %d labels, %s – %s, in %s (%.0f MB/s) → %s\n",
		o.Scenario, *seed, sum.Files, strconv.FormatInt(sum.Bytes, 10), sum.Labels,
		sum.Start.Format(time.RFC3339), sum.End.Format(time.RFC3339), el.Round(time.Millisecond), mbs, *out)
	return nil
}

// simulateFleet writes the case folders of a fleet and says which clients
// the attacker reached (the answer key is in fleet-labels.jsonl too).
func simulateFleet(o simulate.FleetOptions, stdout io.Writer) error {
	start := time.Now()
	sum, err := simulate.Fleet(o)
	if err != nil {
		return err
	}
	touched := 0
	for _, c := range sum.Clients {
		if c.Touched {
			touched++
		}
	}
	fmt.Fprintf(stdout, "simulate: fleet of %d clients (%d reached by the attacker), seed %d: %d files, %d bytes of evidence, in %s → %s (answer key: fleet-labels.jsonl)\n",
		len(sum.Clients), touched, o.Seed, sum.Files, sum.Bytes, time.Since(start).Round(time.Millisecond), o.Out)
	return nil
}
