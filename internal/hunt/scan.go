package hunt

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// scanParallel reads the store's part files on up to n goroutines and
// hands deliver the batches strictly in the order a single scan would
// give (file by file, row by row), so results do not depend on which
// scanner was faster. rows is the number of stored rows the batch's
// stretch of the scan covered, selected or not. Each scanner has its own
// selector (nil: every row whole, shown to everyone); a row's mask in a
// batch has words words. A file being delivered always has a
// scanner of its own, so the in-order hand-over cannot deadlock; the
// per-file queues bound memory.
func scanParallel(ctx context.Context, st *store.Store, opts store.ScanOptions, n, words int, pool *sync.Pool,
	newSel func() *selector, deliver func(b *batch, rows int64) error) error {
	parts, err := st.Parts(opts.Sources)
	if err != nil {
		return err
	}
	if n < 1 {
		n = 1
	}
	n = min(n, len(parts))
	type out struct {
		ch  chan scanned
		err error
	}
	outs := make([]*out, len(parts))
	for i := range outs {
		outs[i] = &out{ch: make(chan scanned, 4)}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sel := newSel()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(parts) {
					return
				}
				o := outs[i]
				o.err = scanPart(sctx, st, opts, parts[i], sel, words, pool, o.ch)
				close(o.ch)
			}
		}()
	}
	var first error
	for _, o := range outs {
		for sb := range o.ch {
			if first == nil {
				if e := deliver(sb.b, sb.rows); e != nil {
					first = e
					cancel()
				}
				continue
			}
			sb.b.reset()
			pool.Put(sb.b)
		}
		if first == nil && o.err != nil {
			first = o.err
			cancel()
		}
	}
	wg.Wait()
	return first
}

type scanned struct {
	b    *batch
	rows int64
}

// scanPart scans one part file into batches of batchSize events.
func scanPart(ctx context.Context, st *store.Store, opts store.ScanOptions, part store.Part, sel *selector, words int, pool *sync.Pool, ch chan<- scanned) error {
	all := make(mask, words)
	for i := range all {
		all[i] = ^uint64(0)
	}
	cur := pool.Get().(*batch)
	cur.words = words
	var events int64
	rowsNow := func() int64 {
		if sel != nil {
			return sel.rows // counts over every part this selector saw
		}
		return events
	}
	lastRows := rowsNow()
	flush := func() error {
		r := rowsNow()
		select {
		case ch <- scanned{cur, r - lastRows}:
		case <-ctx.Done():
			return ctx.Err()
		}
		lastRows = r
		cur = pool.Get().(*batch)
		cur.words = words
		return nil
	}
	o := opts
	o.Parts = []store.Part{part}
	var selectFn func(*store.RowKey) store.Want
	if sel != nil {
		selectFn = sel.Select
	}
	next := func() *event.Event {
		cur.evs = cur.evs[:len(cur.evs)+1]
		return &cur.evs[len(cur.evs)-1]
	}
	_, err := st.ScanSelectInto(ctx, o, selectFn, next, func(ev *event.Event) error {
		m := all
		if sel != nil {
			m = sel.amask
		}
		cur.masks = append(cur.masks, m...)
		events++
		if len(cur.evs) == batchSize {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(cur.evs) > 0 || rowsNow() > lastRows {
		return flush()
	}
	pool.Put(cur)
	return nil
}
