package store

import (
	"context"

	"github.com/spoor-dfir/spoor/internal/event"
)

// ScanSelectProgress is ScanSelect part file by part file, calling
// progress(done, total) after each, so a command can show how far a long
// scan has come. Rows come in the same order as from ScanSelect. A nil
// progress is allowed.
func (s *Store) ScanSelectProgress(ctx context.Context, opts ScanOptions, sel func(*RowKey) Want, fn func(ev *event.Event) error, progress func(done, total int)) (ScanStats, error) {
	parts := opts.Parts
	if parts == nil {
		var err error
		if parts, err = s.Parts(opts.Sources); err != nil {
			return ScanStats{}, err
		}
	}
	var all ScanStats
	for i, p := range parts {
		o := opts
		o.Parts = []Part{p}
		st, err := s.ScanSelect(ctx, o, sel, fn)
		all.Rows += st.Rows
		all.Selected += st.Selected
		all.Pages += st.Pages
		if err != nil {
			return all, err
		}
		if progress != nil {
			progress(i+1, len(parts))
		}
	}
	return all, nil
}
