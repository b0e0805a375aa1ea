// Package evtx ingests Windows XML Event Log (EVTX) files: it streams the
// file in 64 KiB chunks, decodes chunks in parallel with the project's own
// BinXML decoder (package binxml), falls back to golang-evtx (package
// goevtx) for records the fast path cannot read, and emits one event.Event
// per record in file order, with typed columns filled by the per-event-id
// table of package winevent.
package evtx

import (
	"github.com/Velocidex/ordereddict"

	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/goevtx"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/winevent"
)

// FormatRecovered is the format of events from records carved from chunk
// slack or damaged chunks (binxml.Record.Recovered): kept, but marked.
const FormatRecovered = "evtx-recovered"

// Parser is the EVTX ingester. The zero value is not ready; use New.
type Parser struct {
	// NewDecoder makes the primary decoder for one worker; nil means the
	// fast decoder. Tests swap in goevtx to compare the two.
	NewDecoder func() binxml.Decoder
	// NoFallback disables the golang-evtx fallback (for measuring the
	// fast path alone).
	NoFallback bool
	// Slack also emits records found in chunk slack space, after the
	// free-space offset: stale records left from the chunk's earlier use,
	// which may repeat or predate records elsewhere in the file. Off by
	// default (evtxexport's default export does not include them either).
	Slack bool
}

// New returns the EVTX parser with the fast decoder and golang-evtx fallback.
func New() *Parser { return &Parser{} }

// Name implements input.Parser.
func (*Parser) Name() string { return "evtx" }

// Detect implements input.Parser: the file header magic is certain; a chunk
// magic at offset 0 or 4096 (a file whose header is damaged, or a carved
// chunk) is likely.
func (*Parser) Detect(in *input.Input) int {
	b := in.Raw
	switch {
	case binxml.HasFileMagic(b):
		return 100
	case binxml.HasChunkMagic(b):
		return 80
	case len(b) >= binxml.FileHeaderSize+8 && binxml.HasChunkMagic(b[binxml.FileHeaderSize:]):
		return 80
	}
	return 0
}

// job is one 64 KiB block of the file, decoded by a worker into res.
type job struct {
	seq    int
	offset int64
	buf    []byte
	n      int
	res    result
}

// result is what a worker made of a block.
type result struct {
	events    []event.Event
	skips     []skip
	notes     []string
	errs      []string
	damage    int
	recovered int
}

type skip struct {
	reason, detail string
}

// Parse implements input.Parser.
func (p *Parser) Parse(ctx context.Context, in *input.Input, emit func(ev *event.Event) error, st *input.Stats) error {
	rc, err := in.Open()
	if err != nil {
		return &input.ParseError{File: in.Path, Err: err}
	}
	defer rc.Close()

	// The first block tells where chunks start: after a 4 KiB file header,
	// or at 0 for a file that starts with a chunk.
	head := make([]byte, binxml.FileHeaderSize)
	n, err := io.ReadFull(rc, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return &input.ParseError{File: in.Path, Err: err}
	}
	head = head[:n]
	if n < binxml.FileHeaderSize && !binxml.HasChunkMagic(head) {
		// Said plainly: "ingested, 0 records" alone reads as an empty log.
		st.Note("file ends inside its %d-byte file header (%d bytes): truncated, it holds no records", binxml.FileHeaderSize, n)
		st.Error(fmt.Sprintf("%s@%d: truncated inside the file header", in.Path, n))
		return nil
	}
	var prefix []byte
	if binxml.HasChunkMagic(head) {
		prefix = head // a chunk starts at 0: these bytes are its first 4 KiB
	} else if !binxml.HasFileMagic(head) {
		st.Note("file header has no ElfFile magic; chunks read from offset %d", binxml.FileHeaderSize)
	}
	base := int64(binxml.FileHeaderSize)
	if prefix != nil {
		base = 0
	}

	workers := max(in.Workers, 1)
	inflight := 2*workers + 2
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	free := make(chan *job, inflight)
	for range inflight {
		free <- &job{buf: make([]byte, binxml.ChunkSize)}
	}
	jobs := make(chan *job, inflight)
	done := make(chan *job, inflight)
	var readErr error

	// Reader: sequential 64 KiB reads, so any io.Reader (a zip entry) works.
	// Parse waits for it before returning, so rc is never closed under it.
	readerDone := make(chan struct{})
	defer func() { cancel(); <-readerDone }()
	go func() {
		defer close(readerDone)
		defer close(jobs)
		off := base
		for seq := 0; ; seq++ {
			var j *job
			select {
			case j = <-free:
			case <-ctx.Done():
				return
			}
			j.seq, j.offset = seq, off
			k := 0
			if prefix != nil && seq == 0 {
				k = copy(j.buf, prefix)
			}
			m, err := io.ReadFull(rc, j.buf[k:])
			j.n = k + m
			if j.n > 0 {
				select {
				case jobs <- j:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					readErr = err
				}
				return
			}
			off += binxml.ChunkSize
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := p.newWorker(in.Path)
			for j := range jobs {
				w.decode(j)
				select {
				case done <- j:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// Emit in file order: hold results that arrive early.
	pending := map[int]*job{}
	next := 0
	var emitErr error
	for j := range done {
		pending[j.seq] = j
		for {
			j, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if emitErr == nil {
				emitErr = p.flush(ctx, j, emit, st)
				if emitErr != nil {
					cancel()
				}
			}
			j.res.events = j.res.events[:0]
			select {
			case free <- j:
			default:
			}
		}
	}
	if emitErr != nil {
		return emitErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if readErr != nil {
		return &input.ParseError{File: in.Path, Offset: base + int64(next)*binxml.ChunkSize, Err: readErr}
	}
	return nil
}

func (p *Parser) flush(ctx context.Context, j *job, emit func(*event.Event) error, st *input.Stats) error {
	r := &j.res
	for _, s := range r.skips {
		st.Skip(s.reason, s.detail)
	}
	for _, n := range r.notes {
		st.Note("%s", n)
	}
	for _, e := range r.errs {
		st.Error(e)
	}
	if r.damage > 0 {
		st.Note("some records had a damaged tail (size copy mismatch) but decoded; their values may be incomplete")
	}
	if r.recovered > 0 {
		st.Recovered += int64(r.recovered)
		st.Note("records carved from chunk slack or from damaged chunks are marked format %q: they may be stale copies of overwritten records, not current ones", FormatRecovered)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range r.events {
		ev := &r.events[i]
		if err := emit(ev); err != nil {
			return err
		}
		st.Records++
		st.Saw(ev.Time)
	}
	return nil
}

// worker holds one goroutine's decoders and scratch space.
type worker struct {
	path     string
	primary  binxml.Decoder
	fallback bool
	ref      goevtx.Decoder
	res      *result
	// refRecs holds golang-evtx's reading of the current chunk, by offset,
	// built on the first record the primary decoder gives up on.
	refRecs map[int64]*binxml.Record
	refDone bool
	chunk   []byte
	off     int64
	json    []byte // scratch for the fields' JSON text
}

func (p *Parser) newWorker(path string) *worker {
	w := &worker{path: path, fallback: !p.NoFallback}
	if p.NewDecoder != nil {
		w.primary = p.NewDecoder()
	} else {
		f := binxml.NewFast()
		f.Tail = p.Slack
		f.Notes = func(at int64, s string) {
			w.res.notes = append(w.res.notes, "some chunks: "+s)
			w.res.errs = append(w.res.errs, fmt.Sprintf("%s@%d: %s", w.path, at, s))
		}
		w.primary = f
	}
	return w
}

func (w *worker) decode(j *job) {
	w.res = &j.res
	r := w.res
	r.skips, r.notes, r.errs, r.damage, r.recovered = r.skips[:0], r.notes[:0], r.errs[:0], 0, 0
	chunk := j.buf[:j.n]
	w.chunk, w.off, w.refDone, w.refRecs = chunk, j.offset, false, nil
	if isZero(chunk) {
		return // unused space at the end of a preallocated file
	}
	err := safeDecode(w.primary, chunk, j.offset, w.out, w.bad)
	if err != nil {
		if errors.Is(err, binxml.ErrNotChunk) {
			r.errs = append(r.errs, fmt.Sprintf("%s@%d: block is not an EVTX chunk (no chunk magic, no records); skipped", w.path, j.offset))
			return
		}
		r.errs = append(r.errs, fmt.Sprintf("%s@%d: %v", w.path, j.offset, err))
	}
	w.truncated(j)
}

// reasonTruncated counts the records a file's end cut off.
const reasonTruncated = "truncated"

// truncated relabels what a cut-off last chunk lost: records its header
// says are there but the file ends before are "truncated", not "bad
// record header", and the file is noted as truncated.
func (w *worker) truncated(j *job) {
	if j.n >= binxml.ChunkSize || !binxml.HasChunkMagic(j.buf[:j.n]) {
		return
	}
	h, _ := binxml.ParseChunkHeader(j.buf[:j.n])
	r := w.res
	r.notes = append(r.notes, fmt.Sprintf("file is truncated: its last chunk (at offset %d) has %d of %d bytes", j.offset, j.n, binxml.ChunkSize))
	if int(h.FreeSpaceOff) <= j.n {
		return
	}
	for i := range r.skips {
		if r.skips[i].reason == binxml.ReasonRecordHeader || r.skips[i].reason == binxml.ReasonBinXML {
			r.skips[i].reason = reasonTruncated
		}
	}
	if len(r.skips) == 0 {
		r.skips = append(r.skips, skip{reason: reasonTruncated, detail: fmt.Sprintf("%s@%d: records up to chunk offset %d cut off by the end of the file", w.path, j.offset+int64(j.n), h.FreeSpaceOff)})
	}
}

func safeDecode(d binxml.Decoder, chunk []byte, off int64, out func(*binxml.Record), bad func(binxml.Bad)) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("chunk decoder panic: %v", p)
		}
	}()
	return d.DecodeChunk(chunk, off, out, bad)
}

func (w *worker) out(rec *binxml.Record) {
	if rec.Damaged {
		w.res.damage++
	}
	if rec.Recovered {
		w.res.recovered++
	}
	r := w.res
	if cap(r.events) > len(r.events) {
		r.events = r.events[:len(r.events)+1]
	} else {
		r.events = append(r.events, event.Event{})
	}
	w.json = toEvent(rec, w.path, &r.events[len(r.events)-1], w.json)
}

func (w *worker) bad(b binxml.Bad) {
	if w.fallback && b.Reason != binxml.ReasonRecordHeader {
		if rec := w.refRecord(b.Offset); rec != nil {
			w.out(rec)
			return
		}
	}
	detail := fmt.Sprintf("%s@%d: record %d: %s: %v", w.path, b.Offset, b.RecordID, b.Reason, b.Err)
	w.res.skips = append(w.res.skips, skip{reason: b.Reason, detail: detail})
}

// refRecord returns golang-evtx's decoding of the record at off, if it has one.
func (w *worker) refRecord(off int64) *binxml.Record {
	if !w.refDone {
		w.refDone = true
		w.refRecs = map[int64]*binxml.Record{}
		err := w.ref.DecodeChunk(w.chunk, w.off, func(r *binxml.Record) {
			c := *r
			c.Fields = append([]binxml.Field(nil), r.Fields...)
			w.refRecs[r.Offset] = &c
		}, func(binxml.Bad) {})
		if errors.Is(err, goevtx.ErrTemplateCycle) {
			w.res.notes = append(w.res.notes, "some chunks have template definitions that reference each other in a cycle; their undecodable records were not retried with golang-evtx")
			w.res.errs = append(w.res.errs, fmt.Sprintf("%s@%d: %v", w.path, w.off, err))
		}
	}
	return w.refRecs[off]
}

func isZero(b []byte) bool {
	// bytes.Count would scan all; compare in 4 KiB steps against zeros.
	var z [4096]byte
	for len(b) > 0 {
		n := min(len(b), len(z))
		if !bytes.Equal(b[:n], z[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// toEvent maps a decoded record onto an event (overwriting all of ev); buf
// is scratch space for the fields' JSON text, returned for reuse.
func toEvent(r *binxml.Record, path string, ev *event.Event, buf []byte) []byte {
	format := "evtx"
	if r.Recovered {
		format = FormatRecovered
	}
	winevent.Map(r, format, path, ev)
	return setFields(ev, r.Fields, buf)
}

func toDict(fs []binxml.Field) *ordereddict.Dict {
	d := ordereddict.NewDict()
	for _, f := range fs {
		switch v := f.Value.(type) {
		case []binxml.Field:
			d.Set(f.Name, toDict(v))
		default:
			d.Set(f.Name, v)
		}
	}
	return d
}
