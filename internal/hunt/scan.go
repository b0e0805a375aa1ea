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
		ch    chan scanned
		err   error
		token bool // holds one of the ahead tokens
	}
	outs := make([]*out, len(parts))
	for i := range outs {
		outs[i] = &out{ch: make(chan scanned, 4)}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// At most maxAhead parts are being scanned or wait to be delivered:
	// a scanner ahead of the delivery raced through small parts (a
	// generated case has one per host and log), each holding batches,
	// and the hunt made three times the batches it needed. The token is
	// taken before the part's index, so the lowest undelivered part
	// always holds one and the hand-over cannot deadlock.
	maxAhead := 2 * n
	ahead := make(chan struct{}, maxAhead)
	var next atomic.Int64
	var wg sync.WaitGroup
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sel := newSel()
			for {
				token := true
				select {
				case ahead <- struct{}{}:
				case <-sctx.Done():
					token = false // the part ends at once, closed all the same
				}
				i := int(next.Add(1) - 1)
				if i >= len(parts) {
					if token {
						<-ahead
					}
					return
				}
				outs[i].token = token
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
		if o.token {
			<-ahead // this part is delivered: another may start
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
		if err := flush(); err != nil {
			return err
		}
	}
	// The batch flush took for what would have come next goes back:
	// one per part was left to the collector (a generated case has
	// sixty parts).
	pool.Put(cur)
	return nil
}
