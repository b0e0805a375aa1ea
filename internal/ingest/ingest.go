// Package ingest drives the parsers: it walks the evidence (folders, zip
// archives read in place, gzip files), hashes each file, detects its
// format from content, runs the parser, and writes the events into the
// store, one part file per evidence file, committed by rename.
package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/hosts"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/textio"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Options configure one ingest run.
type Options struct {
	Store   *store.Store
	Paths   []string
	Config  *caseconf.Config // nil: defaults
	Workers int              // 0: all cores
	// Parsers replaces the built-in list (tests); nil uses Parsers().
	Parsers []input.Parser
	// Extra parsers (e.g. --formats definitions) tried besides the list.
	Extra []input.Parser
	// Progress, if set, is told about bytes done (for a progress bar).
	Progress func(done, total int64, events int64)
	// Log receives one line per noteworthy file outcome.
	Log func(msg string)
}

// Summary is the outcome of a run.
type Summary struct {
	Files      int
	Ingested   int
	Empty      int // ingested logs without a record (header only), reported as one line
	Unchanged  int // already in the store (same content, same path)
	Duplicates int // same content as another file
	Skipped    int // no known format
	Failed     int
	Events     int64
	SkipCount  int64 // records or lines skipped inside files
	Bytes      int64
	Elapsed    time.Duration
}

// String is the one-line summary printed at the end of a run.
func (s Summary) String() string {
	mbps := 0.0
	if s.Elapsed > 0 {
		mbps = float64(s.Bytes) / 1e6 / s.Elapsed.Seconds()
	}
	empty := ""
	if s.Empty > 0 {
		empty = fmt.Sprintf(" (%d empty logs: header only, no records)", s.Empty)
	}
	return fmt.Sprintf("%d files: %d ingested%s, %d unchanged, %d duplicate, %d unknown format, %d failed; %d events (%d records skipped) in %.1fs (%.1f MB/s)",
		s.Files, s.Ingested, empty, s.Unchanged, s.Duplicates, s.Skipped, s.Failed, s.Events, s.SkipCount, s.Elapsed.Seconds(), mbps)
}

// Run ingests opts.Paths into opts.Store. Problems with single files are
// recorded in the manifest and logged; the run goes on with the other
// files. The returned error is for problems with the run itself.
func Run(ctx context.Context, opts Options) (_ Summary, retErr error) {
	start := time.Now()
	var sum Summary
	cfg := opts.Config
	if cfg == nil {
		cfg = caseconf.Default()
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	parsers := opts.Parsers
	if parsers == nil {
		var err error
		if parsers, err = Parsers(); err != nil {
			return sum, err
		}
	}
	parsers = append(append([]input.Parser(nil), parsers...), opts.Extra...)
	if err := checkSourceTimezones(cfg, parsers); err != nil {
		return sum, err
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			opts.Log(fmt.Sprintf(format, args...))
		}
	}
	// One writer at a time; the manifest is written at the end (and on
	// interrupt, when ctx is cancelled) and at most every few seconds
	// before that.
	unlock, err := opts.Store.Lock()
	if err != nil {
		return sum, err
	}
	defer func() {
		if uerr := unlock(); uerr != nil && retErr == nil {
			retErr = fmt.Errorf("writing the manifest: %w", uerr)
		}
	}()
	if err := opts.Store.CleanTemp(); err != nil {
		return sum, err
	}
	var wk walker
	defer wk.close()
	items, err := wk.walk(opts.Paths)
	if err != nil {
		return sum, err
	}
	if len(items) == 0 {
		return sum, fmt.Errorf("no evidence files in %s", strings.Join(opts.Paths, ", "))
	}
	sum.Files = len(items)
	var total int64
	for _, it := range items {
		total += it.size
	}
	var done, events atomic.Int64
	progress := func() {
		if opts.Progress != nil {
			opts.Progress(done.Load(), total, events.Load())
		}
	}

	// Phase 1: hash every file (in parallel). The hashes decide, in the
	// deterministic walk order, what is already in the store and which
	// files repeat another's content. Heads are read again in phase 2,
	// not kept: 30,000 small files would otherwise hold 2 GB of heads.
	hashes := make([]hashed, len(items))
	parallel(ctx, workers, len(items), func(i int) {
		if items[i].problem == "" && items[i].skip == "" {
			hashes[i].sum, hashes[i].err = hashFile(items[i].open)
		}
	})
	table := hosts.New(cfg)
	emptyAt := map[string]string{} // path → content hash of logs stored empty
	for _, f := range opts.Store.Manifest().Files {
		if f.Status == store.StatusIngested && f.Records == 0 {
			emptyAt[f.Path] = f.SHA256
		}
	}
	var todo, later []int
	firstOf := map[string]string{}
	for i, it := range items {
		h := hashes[i]
		var res result
		switch {
		case it.skip != "":
			res = recordSkipped(opts.Store, store.FileEntry{Path: it.evPath, Size: it.size, Notes: it.notes}, it.skip)
		case it.problem != "":
			res = recordFailed(opts.Store, store.FileEntry{Path: it.evPath, Size: it.size, Notes: it.notes}, it.problem)
		case h.err != nil:
			res = recordFailed(opts.Store, store.FileEntry{Path: it.evPath, Size: it.size}, h.err.Error())
		default:
			if prev, ok := opts.Store.Lookup(h.sum); ok && (prev.Path == it.evPath || emptyAt[it.evPath] == h.sum) {
				res = result{status: "unchanged"}
			} else if ok {
				res = recordRepeat(opts.Store, it, h.sum, prev)
			} else if _, ok := firstOf[h.sum]; ok {
				// Whether the first copy is empty is known once it is parsed.
				later = append(later, i)
				continue
			} else {
				firstOf[h.sum] = it.evPath
				todo = append(todo, i)
				continue
			}
		}
		done.Add(it.size)
		sum.add(res)
		if res.msg != "" {
			logf("%s", res.msg)
		}
		if res.fatal != nil {
			sum.Elapsed = time.Since(start)
			return sum, res.fatal
		}
	}

	// Phase 2: parse. Files run in parallel; a big EVTX file also decodes
	// its chunks in parallel, so a single file still uses every core.
	var mu sync.Mutex
	var runErr error
	parallel(ctx, workers, len(todo), func(k int) {
		i := todo[k]
		mu.Lock()
		stop := runErr != nil
		mu.Unlock()
		if stop {
			return
		}
		res := ingestOne(ctx, opts.Store, cfg, table, parsers, items[i], hashes[i], workers, &done, &events, progress)
		mu.Lock()
		sum.add(res)
		if res.fatal != nil && runErr == nil {
			runErr = res.fatal
		}
		mu.Unlock()
		if res.msg != "" {
			logf("%s", res.msg)
		}
	})
	for _, i := range later {
		if runErr != nil || ctx.Err() != nil {
			break
		}
		it, h := items[i], hashes[i]
		res := recordDuplicate(opts.Store, it, h.sum, firstOf[h.sum], "")
		if prev, ok := opts.Store.Lookup(h.sum); ok {
			res = recordRepeat(opts.Store, it, h.sum, prev)
		}
		done.Add(it.size)
		sum.add(res)
		if res.msg != "" {
			logf("%s", res.msg)
		}
		if res.fatal != nil {
			runErr = res.fatal
		}
	}
	sum.Elapsed = time.Since(start)
	if runErr != nil {
		return sum, runErr
	}
	return sum, ctx.Err()
}

// checkSourceTimezones rejects source_timezones keys that name no format,
// format family or source.
func checkSourceTimezones(cfg *caseconf.Config, parsers []input.Parser) error {
	known := map[string]bool{event.SourceEVTX: true, event.SourceFirewall: true, event.SourceRMM: true}
	for _, p := range parsers {
		known[strings.ToLower(p.Name())] = true
		known[caseconf.Family(p.Name())] = true
	}
	return cfg.CheckSourceTimezones(func(k string) bool { return known[k] },
		"a format such as fortigate or anydesk-trace, a family such as anydesk, or a source: evtx, firewall, rmm")
}

type hashed struct {
	sum string
	err error
}

// parallel runs fn(0..n-1) on up to workers goroutines, in index order of
// start; it stops handing out work when ctx is done.
func parallel(ctx context.Context, workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func (s *Summary) add(res result) {
	switch res.status {
	case store.StatusIngested:
		s.Ingested++
		if res.empty {
			s.Empty++
		}
	case "unchanged":
		s.Unchanged++
	case store.StatusDuplicate:
		s.Duplicates++
	case store.StatusSkipped:
		s.Skipped++
	case store.StatusFailed:
		s.Failed++
	}
	s.Events += res.records
	s.SkipCount += res.skipped
	s.Bytes += res.bytes
}

func recordFailed(st *store.Store, entry store.FileEntry, msg string) result {
	entry.Status = store.StatusFailed
	entry.Errors = append(entry.Errors, msg)
	if err := st.Record(entry); err != nil {
		return result{status: store.StatusFailed, fatal: err}
	}
	return result{status: store.StatusFailed, msg: entry.Path + ": " + msg}
}

func recordSkipped(st *store.Store, entry store.FileEntry, why string) result {
	entry.Status = store.StatusSkipped
	entry.Notes = append(entry.Notes, why)
	if err := st.Record(entry); err != nil {
		return result{status: store.StatusSkipped, fatal: err}
	}
	return result{status: store.StatusSkipped, msg: entry.Path + ": skipped: " + why}
}

func recordDuplicate(st *store.Store, it item, sum, of, format string) result {
	entry := store.FileEntry{Path: it.evPath, Size: it.size, SHA256: sum, Status: store.StatusDuplicate, DuplicateOf: of, Format: format}
	if err := st.Record(entry); err != nil {
		return result{fatal: err}
	}
	return result{status: store.StatusDuplicate, msg: fmt.Sprintf("%s: same content as %s, not ingested again", it.evPath, of)}
}

// maxHostNames bounds the host spellings recorded per file (a firewall
// log may name thousands of peers; its own names are few).
const maxHostNames = 16

// recordRepeat records a file whose content is already stored as prev:
// an empty log (a header without records, as every unused EVTX channel
// is) is listed under its own path as an empty log of its host, not as a
// duplicate of another host's; anything else is a duplicate.
func recordRepeat(st *store.Store, it item, sum string, prev store.FileEntry) result {
	if prev.Records != 0 || prev.Skipped != 0 || len(prev.Errors) > 0 {
		return recordDuplicate(st, it, sum, prev.Path, prev.Format)
	}
	entry := store.FileEntry{Path: it.evPath, Size: it.size, SHA256: sum, Format: prev.Format, Source: prev.Source,
		Status: store.StatusIngested, TimeZone: prev.TimeZone, Notes: []string{"no records (header only); same content as " + prev.Path}}
	if err := st.Record(entry); err != nil {
		return result{fatal: err}
	}
	return result{status: store.StatusIngested, empty: true}
}

type result struct {
	empty   bool // ingested, but the log holds no record (header only)
	status  string
	records int64
	skipped int64
	bytes   int64
	msg     string
	fatal   error // the run cannot go on (store write failure, cancel)
}

// countingReader counts bytes for the progress bar.
type countingReader struct {
	r    io.Reader
	n    *atomic.Int64
	tick func()
	acc  int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	c.acc += int64(n)
	if c.acc > 4<<20 {
		c.acc = 0
		c.tick()
	}
	return n, err
}

func ingestOne(ctx context.Context, st *store.Store, cfg *caseconf.Config, table *hosts.Table, parsers []input.Parser, it item, h hashed, workers int, done, events *atomic.Int64, tick func()) result {
	entry := store.FileEntry{Path: it.evPath, Size: it.size, SHA256: h.sum, Notes: it.notes}
	sum := h.sum
	fail := func(msg string) result { return recordFailed(st, entry, msg) }
	head, err := readHead(it.open)
	if err != nil {
		return fail(err.Error())
	}
	open := it.open
	in := &input.Input{Path: it.evPath, Size: it.size, Raw: head, Config: cfg, Workers: workers}
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		// gzip-compressed logs are read in place, decompressed on the fly.
		open = gunzipOpener(it.open, it.size)
		in.Size = -1
		if in.Raw, err = readHead(open); err != nil {
			return fail("gzip: " + err.Error())
		}
		entry.Notes = append(entry.Notes, "gzip-compressed; read decompressed")
	}
	in.Text = textio.Decode(in.Raw)
	if longFirstLine(in) {
		// Detection needs whole lines: read on past the first line.
		if t, ok := textAfterFirstLine(open); ok {
			in.Text = t
			entry.Notes = append(entry.Notes, "first line longer than the sniffed head; format detected from the lines after it")
		}
	}
	in.Open = func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{&countingReader{r: rc, n: done, tick: tick}, rc}, nil
	}

	p, note := detect(parsers, in)
	if note != "" {
		entry.Notes = append(entry.Notes, note)
	}
	if p == nil {
		done.Add(it.size)
		entry.Status = store.StatusSkipped
		entry.Notes = append(entry.Notes, "no known format")
		if err := st.Record(entry); err != nil {
			return result{fatal: err}
		}
		return result{status: store.StatusSkipped, msg: fmt.Sprintf("warning: %s: unknown format, not ingested (see spoor ingest --formats)", it.evPath)}
	}
	entry.Format = p.Name()

	w := st.NewEventWriter("part-" + sum[:16])
	var stats input.Stats
	var writeErr error
	sources := map[string]bool{}
	names := map[string]string{}
	emit := func(ev *event.Event) error {
		raw := ev.Host
		table.Fix(ev)
		if raw != ev.Host && raw != "" && len(names) < maxHostNames {
			if _, ok := names[raw]; !ok {
				names[strings.Clone(raw)] = ev.Host
			}
		}
		if err := w.Write(ev); err != nil {
			writeErr = err
			return err
		}
		sources[ev.Source] = true
		events.Add(1)
		for _, d := range derivers {
			if dev, ok := d(ev); ok {
				table.Fix(dev)
				if err := w.Write(dev); err != nil {
					writeErr = err
					return err
				}
				sources[dev.Source] = true
				events.Add(1)
			}
		}
		return nil
	}
	perr := safeParse(ctx, p, in, emit, &stats)
	if ctx.Err() != nil {
		w.Abort()
		return result{fatal: ctx.Err()}
	}
	if writeErr != nil {
		w.Abort()
		return result{status: store.StatusFailed, fatal: fmt.Errorf("writing events of %s: %w", it.evPath, writeErr)}
	}
	rows := w.Rows()
	parts, err := w.Commit()
	if err != nil {
		return result{fatal: fmt.Errorf("committing events of %s: %w", it.evPath, err)}
	}
	entry.Status = store.StatusIngested
	entry.Parts = parts
	if len(names) > 0 {
		entry.HostNames = names
	}
	for _, n := range rows {
		entry.Records += n
	}
	entry.Skipped = stats.Skipped
	entry.Recovered = stats.Recovered
	entry.SkipReasons = stats.Reasons
	entry.TimeZone = stats.TimeZone
	entry.Notes = append(entry.Notes, stats.Notes...)
	entry.Errors = append(entry.Errors, stats.Errors...)
	var srcs []string
	for s := range sources {
		srcs = append(srcs, s)
	}
	sort.Strings(srcs)
	if len(srcs) > 0 {
		entry.Source = srcs[0]
		for _, s := range srcs[1:] {
			entry.Source += "," + s
		}
	}
	if !stats.First.IsZero() {
		f, l := stats.First.UTC(), stats.Last.UTC()
		entry.First, entry.Last = &f, &l
	}
	msg := ""
	if perr != nil {
		entry.Errors = append(entry.Errors, perr.Error())
		msg = fmt.Sprintf("%s: %v (%d events kept)", it.evPath, perr, entry.Records)
	} else if stats.Skipped > 0 {
		msg = fmt.Sprintf("%s: %d records skipped (%s)", it.evPath, stats.Skipped, stats.ReasonList())
	}
	if err := st.Record(entry); err != nil {
		return result{fatal: err}
	}
	return result{status: store.StatusIngested, records: entry.Records, skipped: stats.Skipped, bytes: it.size, msg: msg,
		empty: entry.Records == 0 && stats.Skipped == 0 && perr == nil}
}

// safeParse runs a parser, turning a panic into an error so that one bad
// file never ends the run.
func safeParse(ctx context.Context, p input.Parser, in *input.Input, emit func(*event.Event) error, st *input.Stats) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser %s panicked: %v", p.Name(), r)
		}
	}()
	return p.Parse(ctx, in, emit, st)
}

// detect asks every parser and takes the most confident; ties between
// different parsers are reported in the manifest, not guessed silently.
func detect(parsers []input.Parser, in *input.Input) (input.Parser, string) {
	var best input.Parser
	bestScore := 0
	var tied []string
	for _, p := range parsers {
		s := safeDetect(p, in)
		switch {
		case s > bestScore:
			best, bestScore, tied = p, s, nil
		case s == bestScore && s > 0:
			tied = append(tied, p.Name())
		}
	}
	if best != nil && len(tied) > 0 {
		return best, fmt.Sprintf("ambiguous format: %s and %v matched equally (confidence %d); used %s", best.Name(), tied, bestScore, best.Name())
	}
	return best, ""
}

func safeDetect(p input.Parser, in *input.Input) (score int) {
	defer func() {
		if recover() != nil {
			score = 0
		}
	}()
	return p.Detect(in)
}

func hashFile(open func() (io.ReadCloser, error)) (string, error) {
	rc, err := open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// longFirstLine says whether the head is text whose first line fills it,
// so that detection saw no whole line.
func longFirstLine(in *input.Input) bool {
	full := len(in.Raw) >= input.HeadSize
	return full && in.Text != nil && bytes.IndexByte(in.Text, '\n') < 0
}

// maxLongLineSkip bounds how far past a long first line detection reads.
const maxLongLineSkip = 16 << 20

// textAfterFirstLine returns up to a head's worth of the lines after the
// first (over-long) one, decoded as the parsers will read them.
func textAfterFirstLine(open func() (io.ReadCloser, error)) ([]byte, bool) {
	rc, err := open()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	r := textio.NewReaderSize(io.LimitReader(rc, maxLongLineSkip), input.HeadSize)
	var out []byte
	for n := 0; len(out) < input.HeadSize; n++ {
		line, err := r.Next()
		if errors.Is(err, textio.ErrLineTooLong) {
			continue
		}
		if err != nil {
			break
		}
		if n == 0 {
			continue // the start of the long line itself
		}
		out = append(append(out, line...), '\n')
	}
	return out, len(out) > 0
}

func readHead(open func() (io.ReadCloser, error)) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, input.HeadSize))
	if err != nil && len(b) == 0 {
		return nil, err
	}
	return b, nil
}

// gzip limits: a .gz log is read decompressed on the fly; these bounds
// stop a bomb from costing hours (memory is bounded anyway: nothing is
// held).
// Logs compress 5-50×, very repetitive ones ~100×; deflate cannot go
// beyond ~1030×, which only runs of one byte reach. Variables so that
// tests can reach them with small inputs.
var (
	maxGzipSize  int64 = 64 << 30 // 64 GiB decompressed
	maxGzipRatio int64 = 300      // decompressed/compressed, above maxGzipFree
	maxGzipFree  int64 = 64 << 20 // no ratio check below this
)

// ErrGzipBomb is the read error of a .gz file over its bounds; events read
// before it are kept.
var ErrGzipBomb = errors.New("gzip bomb guard")

func gunzipOpener(open func() (io.ReadCloser, error), compressed int64) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(rc)
		if err != nil {
			rc.Close()
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{&boundedReader{r: zr, compressed: compressed}, rc}, nil
	}
}

// boundedReader stops a decompressing reader at maxGzipSize bytes, or
// when the output outgrows maxGzipRatio times the compressed size.
type boundedReader struct {
	r          io.Reader
	compressed int64
	n          int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > maxGzipSize {
		return n, fmt.Errorf("%w: more than %d bytes decompressed; the rest is not read", ErrGzipBomb, maxGzipSize)
	}
	if b.n > maxGzipFree && b.compressed > 0 && b.n/b.compressed > maxGzipRatio {
		return n, fmt.Errorf("%w: %d bytes from %d compressed (ratio over %d); the rest is not read", ErrGzipBomb, b.n, b.compressed, maxGzipRatio)
	}
	return n, err
}
