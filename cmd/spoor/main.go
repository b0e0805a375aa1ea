// Command spoor is a log-forensics engine for the supplier-compromise case:
// it ingests EVTX, firewall and RMM-agent logs into a Parquet store, hunts
// them with rules and analyzers, and writes a timeline and a report.
//
// Usage: spoor COMMAND [flags] [args]; spoor help lists the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	// The zone database is built in: a case's time zone must work on a
	// machine without /usr/share/zoneinfo (a minimal container, Windows).
	_ "time/tzdata"
)

// Exit codes scripts can rely on.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitFindings = 3 // --fail-on: a finding at or above the given severity
)

// command is one subcommand; the list below is the whole CLI.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"ingest", "parse evidence (files, folders, zips) into the store", runIngest},
		{"simulate", "write the supplier-compromise scenario as evidence files with ground truth", runSimulate},
		{"hunt", "run rules and analyzers over the store; write findings", runHunt},
		{"rules", "list, lint and test rules (spoor and Sigma)", runRules},
		{"run", "ingest + hunt + report in one go", runRun},
		{"timeline", "export events and findings in time order", runTimeline},
		{"report", "write the incident report (HTML or Markdown)", runReport},
		{"query", "filter the store with an expr expression", runQuery},
		{"search", "find events by keyword or regex in any column or raw field", runSearch},
		{"logons", "logon summary by account, host, logon type and source", runLogons},
		{"metrics", "events per event id, channel, host and evidence file", runMetrics},
		{"attack-layer", "ATT&CK Navigator layer of the findings' techniques", runAttackLayer},
		{"fleet", "many clients at once: flagged provider sessions per client and indicators across them", runFleet},
	}
}

// usageError marks errors that should exit with code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// exitCodeError carries a specific exit code (e.g. --fail-on).
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

func main() {
	// SIGTERM too (a killed container, a timeout): the ingest then writes
	// the manifest of what it completed on its way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// SPOOR_CPUPROFILE=file writes a CPU profile of the run (go tool pprof).
	if path := os.Getenv("SPOOR_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
		}
	}
	// SPOOR_MEMPROFILE=file records every allocation and writes the
	// allocation profile at the end (go tool pprof -sample_index=alloc_space).
	memPath := os.Getenv("SPOOR_MEMPROFILE")
	if memPath != "" {
		runtime.MemProfileRate = 4096
	}
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	if memPath != "" {
		if f, err := os.Create(memPath); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	stop()
	os.Exit(code)
}

// Main runs the CLI and returns the exit code; tests call it directly.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintln(stdout, "spoor", version())
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue *usageError
		var ec *exitCodeError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "spoor %s: %s\n", c.name, termSafe(err.Error()))
			return exitUsage
		case errors.As(err, &ec):
			if ec.msg != "" {
				fmt.Fprintf(stderr, "spoor %s: %s\n", c.name, termSafe(ec.msg))
			}
			return ec.code
		default:
			fmt.Fprintf(stderr, "spoor %s: %s\n", c.name, termSafe(err.Error()))
			return exitError
		}
	}
	fmt.Fprintf(stderr, "spoor: unknown command %q\n", args[0]) // %q escapes
	usage(stderr)
	return exitUsage
}

// version is the module version and, when built from a checkout, the
// commit it was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+modified"
			}
		}
	}
	if rev != "" {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return v + " " + bi.GoVersion
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: spoor COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nflags may come before or after the arguments; spoor --version prints the version")
	fmt.Fprintln(w, "\nexit codes: 0 ok, 1 error, 2 usage, 3 findings at or above --fail-on")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("spoor "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and turns flag errors into usage errors. Flags may
// come after the arguments too (spoor run CASE --store S), as people
// type them; after "--" everything is an argument.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return &usageError{err.Error()}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	// Leave the arguments where fs.Args() finds them.
	return fs.Parse(append([]string{"--"}, pos...))
}
