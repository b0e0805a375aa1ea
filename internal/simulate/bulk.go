package simulate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/spoor-dfir/spoor/internal/simulate/evtxw"
)

// bulkSampleDays is how much normal life is generated to learn each
// file's event mix before it is scaled up.
const bulkSampleDays = 7

// bulk writes a benchmark corpus of about o.Size bytes of EVTX: normal
// life for a week is generated once, and each host's channel is then
// written by cycling through its own records with advancing times, so
// the mix per file is the realistic one and records cost no allocation.
func bulk(o Options, co *company) (*Summary, error) {
	sample := *co
	sample.start = co.end.AddDate(0, 0, -min(bulkSampleDays, o.Days))
	g := &gen{r: newRand(o.Seed + 1), co: &sample, c: newCollector(), newRID: 4000, sessEnd: map[*session]time.Time{}, la: newRand(o.Seed ^ 0x1a7e4a1)}
	g.life()
	type job struct {
		rel    string
		pool   []*evtxw.Record
		target int64
	}
	var jobs []*job
	var total int
	keys := make([]string, 0, len(g.c.sinks))
	for k, s := range g.c.sinks {
		if s.evtx && len(s.entries) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := g.c.sinks[k]
		j := &job{rel: k}
		for _, e := range s.entries {
			e.rec.Time = e.t
			j.pool = append(j.pool, e.rec)
		}
		total += len(j.pool)
		jobs = append(jobs, j)
	}
	if total == 0 {
		return nil, fmt.Errorf("bulk: no sample records")
	}
	for _, j := range jobs {
		j.target = max(o.Size*int64(len(j.pool))/int64(total), 1)
	}
	var eg errgroup.Group
	eg.SetLimit(2)
	sizes := make([]int64, len(jobs))
	for i, j := range jobs {
		eg.Go(func() error {
			n, err := bulkFile(filepath.Join(o.Out, "evidence", filepath.FromSlash(j.rel)), j.pool, j.target, co.start, co.end)
			sizes[i] = n
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Out, "labels.jsonl"), nil, 0o644); err != nil {
		return nil, err
	}
	var sum int64
	for _, n := range sizes {
		sum += n
	}
	return &Summary{Files: len(jobs), Bytes: sum, Start: co.start, End: co.end}, nil
}

// bulkFile writes records from pool, round robin, until the file holds
// target bytes; times are spread evenly over [start, end).
func bulkFile(path string, pool []*evtxw.Record, target int64, start, end time.Time) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := evtxw.NewWriter(f)
	period := end.Sub(start)
	// Guess ~900 bytes a record until the file tells us better.
	step := time.Duration(int64(period) / max(target/900, 1))
	t := start
	var size int64
	for i := 0; size < target; i++ {
		r := pool[i%len(pool)]
		r.Time = t
		if _, err := w.Write(r); err != nil {
			if errors.Is(err, evtxw.ErrFileFull) {
				break
			}
			return size, fmt.Errorf("%s: %w", path, err)
		}
		if t.Add(step).Before(end) {
			t = t.Add(step)
		}
		size = w.Size() // cheap: counts chunks
		if i%256 == 255 {
			per := max(size/int64(i+1), 1)
			step = time.Duration(int64(period) / max(target/per, 1))
		}
	}
	if err := w.Close(); err != nil {
		return size, err
	}
	fi, err := f.Stat()
	if err != nil {
		return size, err
	}
	return fi.Size(), f.Close()
}
