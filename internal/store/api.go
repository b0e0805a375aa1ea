// Package store is spoor's system of record: Hive-partitioned Parquet
// (events/source=…/part-….parquet, findings/…, manifest.json) that DuckDB,
// Spark or pandas read as is. Every file is written under a temporary
// name and renamed when complete, so a killed run never leaves a partial
// file a reader would take as complete.
package store

import (
	"context"
	"time"

	"github.com/spoor-dfir/spoor/internal/event"
)

// ScanOptions narrows a scan. Zero values mean "everything".
type ScanOptions struct {
	Sources []string  // evtx, firewall, rmm
	From    time.Time // inclusive; row groups wholly outside are skipped
	To      time.Time // exclusive
	// Columns, when set, names the only columns the caller reads (the
	// rest are left empty); source, time, evidence, offset, record_id,
	// event_id and host are always filled. "fields" decodes the raw
	// fields into Event.Fields.
	Columns []string
	// Parts, when set, scans only these part files (from Store.Parts),
	// in the order given; Sources is then ignored.
	Parts []Part
}

// Part is one event part file of the store.
type Part struct {
	Source string // its partition (evtx, firewall, rmm)
	Path   string
}

// Parts lists the event part files of the given sources (all when nil)
// in scan order, so callers can scan them side by side and still merge
// the results in the order Scan would give.
func (s *Store) Parts(sources []string) ([]Part, error) {
	files, err := s.partFiles(sources)
	if err != nil {
		return nil, err
	}
	out := make([]Part, len(files))
	for i, f := range files {
		out[i] = Part{Source: f[0], Path: f[1]}
	}
	return out, nil
}

// Scan calls fn for every stored event in a deterministic order (source,
// part file name, row). ev is reused between calls: copy what you keep.
// Returning an error from fn stops the scan with that error.
func (s *Store) Scan(ctx context.Context, opts ScanOptions, fn func(ev *event.Event) error) error {
	_, err := s.ScanSelect(ctx, opts, nil, fn)
	return err
}
