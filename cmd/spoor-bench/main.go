// Command spoor-bench measures spoor end to end on a large corpus: it
// builds spoor, generates (or reuses) an EVTX corpus with `spoor simulate
// --size`, then times `spoor ingest` and `spoor hunt` over fresh stores and
// prints MB/s, events/s and peak RSS (median of --runs), and, where
// libevtx's evtxexport is installed, the same corpus through evtxexport
// for a side-by-side ratio.
//
//	go run ./cmd/spoor-bench --size 1GiB --runs 3
//	go run ./cmd/spoor-bench --size 1GiB --runs 1 --single 4GiB --hunt=false --evtxexport=false
//
// The hunt is timed twice on each store, with the corpus's case file:
// the built-in rule pack alone (--no-analyzers) and the whole hunt with
// the six analyzers, each with its ratio to the ingest rate in events/s.
//
// --single SIZE also writes one EVTX file of SIZE made of the corpus's
// chunks (repeated as needed; record ids repeat, which the ingest does not
// mind) and times `spoor ingest` on it alone, to show that peak RSS does
// not grow with the size of one file.
//
// `spoor-bench otrf` is the detection bench over the OTRF recordings (see
// otrf.go).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"github.com/spoor-dfir/spoor/internal/ingest/evtx/densecorpus"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spoor-dfir/spoor/internal/simulate"
)

type measure struct {
	wall   time.Duration
	cpu    time.Duration // user + system: comparable on a busy machine
	maxRSS int64         // bytes
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "otrf" {
		if err := runOTRF(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "spoor-bench otrf:", err)
			os.Exit(1)
		}
		return
	}
	size := flag.String("size", "1GiB", "corpus size for spoor simulate --size")
	corpus := flag.String("corpus", "", "existing corpus folder (skips generation); default: a fresh one in --work")
	work := flag.String("work", filepath.Join(os.TempDir(), "spoor-bench"), "work folder (corpus, stores, binary)")
	runs := flag.Int("runs", 3, "runs per measurement (median reported)")
	workers := flag.Int("workers", 0, "spoor --workers (0: all cores)")
	withExport := flag.Bool("evtxexport", true, "also time evtxexport -f xml where installed")
	hunt := flag.Bool("hunt", true, "also time spoor hunt on the store")
	single := flag.String("single", "", "also build one EVTX file of this size (e.g. 4GiB) from the corpus's chunks and time spoor ingest on it")
	sigmaDir := flag.String("sigma", "", "extra rules (e.g. a newer SigmaHQ checkout) for one more hunt beside the default one, which already holds the shipped SigmaHQ rules")
	real := flag.String("real", "", "also build a corpus of this size (e.g. 256MiB) of dense real chunks (>= 100 records) from --samples and measure it the same way")
	samples := flag.String("samples", filepath.Join("..", "shared", "samples", "evtx"), "EVTX files the --real corpus takes its chunks from")
	flag.Parse()
	if *sigmaDir != "" {
		if _, err := os.Stat(*sigmaDir); err != nil {
			fmt.Fprintf(os.Stderr, "spoor-bench: no Sigma rules at %s: the hunt with SigmaHQ is skipped\n", *sigmaDir)
			*sigmaDir = ""
		}
	}
	b := bench{work: *work, runs: *runs, workers: *workers, hunt: *hunt, sigma: *sigmaDir}
	if err := b.run(*size, *corpus, *withExport, *single, *real, *samples); err != nil {
		fmt.Fprintln(os.Stderr, "spoor-bench:", err)
		os.Exit(1)
	}
}

// bench holds what every measurement of a run shares.
type bench struct {
	bin, work     string
	runs, workers int
	hunt          bool
	sigma         string // Sigma rules for the "HUNT sigma" hunt; "" skips it
}

func (b *bench) run(size, corpus string, withExport bool, single, real, samples string) error {
	work, runs, workers := b.work, b.runs, b.workers
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(work, "spoor")
	b.bin = bin
	fmt.Println("building spoor …")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/spoor").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	if corpus == "" {
		corpus = filepath.Join(work, "corpus-"+size)
		if _, err := os.Stat(corpus); err != nil {
			fmt.Printf("generating %s corpus in %s …\n", size, corpus)
			m, err := timed(bin, "simulate", "--out", corpus, "--size", size)
			if err != nil {
				return err
			}
			b, _ := evtxBytes(corpus)
			fmt.Printf("simulate: %.1f s, %.1f MB/s written\n", m.wall.Seconds(), float64(b)/1e6/m.wall.Seconds())
		}
	}
	evBytes, files := evtxBytes(corpus)
	fmt.Printf("corpus: %d EVTX files, %.1f MB\n", len(files), float64(evBytes)/1e6)

	if single != "" {
		if err := runSingle(bin, work, files, single, runs, workers); err != nil {
			return err
		}
	}

	mi, err := b.measure("generated", corpus, evBytes)
	if err != nil {
		return err
	}
	if real != "" {
		dir := filepath.Join(work, "real-"+real)
		if _, err := buildReal(samples, dir, real); err != nil {
			return err
		}
		rb, rf := evtxBytes(dir)
		fmt.Printf("\ndense real corpus: %d EVTX files, %.1f MB (chunks with >= %d records from %s)\n", len(rf), float64(rb)/1e6, densecorpus.MinRecords, samples)
		if _, err := b.measure("real", dir, rb); err != nil {
			return err
		}
	}
	if withExport {
		if path, err := exec.LookPath("evtxexport"); err == nil {
			start := time.Now()
			for _, f := range files {
				cmd := exec.Command(path, "-f", "xml", f)
				cmd.Stdout = io.Discard
				if err := cmd.Run(); err != nil {
					fmt.Printf("evtxexport %s: %v\n", f, err)
				}
			}
			el := time.Since(start)
			fmt.Printf("EVTXEXPORT (one process per file, sequential): %.2f s, %.1f MB/s; spoor is %.1f× faster\n",
				el.Seconds(), float64(evBytes)/1e6/el.Seconds(), el.Seconds()/mi.wall.Seconds())
		} else {
			fmt.Println("evtxexport not installed (apt-get install libevtx-utils): no side-by-side ratio")
		}
	}
	return nil
}

// measure times ingest and the hunts on corpus (median of b.runs, each
// on a fresh store) and prints them side by side; it returns the median
// ingest.
func (b *bench) measure(name, corpus string, evBytes int64) (measure, error) {
	bin, work, runs, workers, hunt := b.bin, b.work, b.runs, b.workers, b.hunt
	var ingests []measure
	// spoor's own rule pack alone (--no-analyzers --no-sigma), that with
	// the analyzers (--no-sigma), and the default hunt (spoor's rules, the
	// shipped SigmaHQ rules, analyzers, triage, incidents), each on the
	// fresh store.
	kinds := []struct {
		name  string
		extra []string
	}{{"HUNT rules", []string{"--no-analyzers", "--no-sigma"}}, {"HUNT nosigma", []string{"--no-sigma"}}, {"HUNT default", nil}}
	if b.sigma != "" {
		kinds = append(kinds, struct {
			name  string
			extra []string
		}{"HUNT +rules", []string{"--rules", b.sigma}})
	}
	hunts := make([][]measure, len(kinds))
	var events int64
	caseFile := filepath.Join(corpus, "case.yaml")
	for i := 0; i < runs; i++ {
		st := filepath.Join(work, fmt.Sprintf("store-%s-%d", name, i))
		os.RemoveAll(st)
		args := []string{"ingest", "--store", st}
		if workers > 0 {
			args = append(args, "--workers", fmt.Sprint(workers))
		}
		m, err := timed(bin, append(args, corpus)...)
		if err != nil {
			return measure{}, err
		}
		ingests = append(ingests, m)
		events = manifestEvents(st)
		fmt.Printf("%s ingest run %d: %.2f s (%.2f CPU-s), %.1f MB/s, %.0f events/s, %.1f MB per CPU-second, peak RSS %d MiB\n", name, i+1, m.wall.Seconds(), m.cpu.Seconds(),
			float64(evBytes)/1e6/m.wall.Seconds(), float64(events)/m.wall.Seconds(), float64(evBytes)/1e6/m.cpu.Seconds(), m.maxRSS>>20)
		if hunt {
			for k, kind := range kinds {
				args := append([]string{"hunt", "--store", st}, kind.extra...)
				if _, err := os.Stat(caseFile); err == nil {
					args = append(args, "--case", caseFile)
				}
				h, err := timed(bin, args...)
				if err != nil {
					return measure{}, err
				}
				hunts[k] = append(hunts[k], h)
				fmt.Printf("%s %s run %d: %.2f s (%.2f CPU-s), %.0f events/s, %.0f events per CPU-second, peak RSS %d MiB\n", name, strings.ToLower(kind.name), i+1, h.wall.Seconds(), h.cpu.Seconds(),
					float64(events)/h.wall.Seconds(), float64(events)/h.cpu.Seconds(), h.maxRSS>>20)
			}
		}
		os.RemoveAll(st)
	}
	mi := median(ingests)
	fmt.Printf("\n%s corpus, %d events:\n", name, events)
	fmt.Printf("INGEST     median of %d: %.2f s (%.2f CPU-s), %.1f MB/s, %.0f events/s, peak RSS %d MiB (max over runs)\n", runs, mi.wall.Seconds(), mi.cpu.Seconds(),
		float64(evBytes)/1e6/mi.wall.Seconds(), float64(events)/mi.wall.Seconds(), maxRSS(ingests)>>20)
	for k, kind := range kinds {
		if !hunt || len(hunts[k]) == 0 {
			continue
		}
		mh := median(hunts[k])
		fmt.Printf("%-10s median of %d: %.2f s (%.2f CPU-s), %.0f events/s (%.2f× ingest wall, %.2f× ingest CPU), peak RSS %d MiB\n", kind.name, runs, mh.wall.Seconds(), mh.cpu.Seconds(),
			float64(events)/mh.wall.Seconds(), mi.wall.Seconds()/mh.wall.Seconds(), mi.cpu.Seconds()/mh.cpu.Seconds(), maxRSS(hunts[k])>>20)
	}
	return mi, nil
}

// runSingle builds (or reuses) one big EVTX file from the corpus's chunks
// and times spoor ingest on it.
func runSingle(bin, work string, files []string, size string, runs, workers int) error {
	n, err := simulate.ParseSize(size)
	if err != nil {
		return err
	}
	big := filepath.Join(work, "single-"+size+".evtx")
	if st, err := os.Stat(big); err != nil || st.Size() < n {
		fmt.Printf("writing one %s EVTX file %s …\n", size, big)
		if err := writeSingle(big, files, n); err != nil {
			return err
		}
	}
	st, err := os.Stat(big)
	if err != nil {
		return err
	}
	var ms []measure
	for i := 0; i < runs; i++ {
		store := filepath.Join(work, "store-single")
		os.RemoveAll(store)
		args := []string{"ingest", "--store", store}
		if workers > 0 {
			args = append(args, "--workers", fmt.Sprint(workers))
		}
		m, err := timed(bin, append(args, big)...)
		if err != nil {
			return err
		}
		ms = append(ms, m)
		events := manifestEvents(store)
		fmt.Printf("single-file ingest run %d: %.2f s, %.1f MB/s, %.0f events/s, peak RSS %d MiB\n", i+1, m.wall.Seconds(),
			float64(st.Size())/1e6/m.wall.Seconds(), float64(events)/m.wall.Seconds(), m.maxRSS>>20)
		os.RemoveAll(store)
	}
	m := median(ms)
	fmt.Printf("SINGLE %s file, median of %d: %.2f s, %.1f MB/s, peak RSS %d MiB (max over runs)\n\n", size, runs,
		m.wall.Seconds(), float64(st.Size())/1e6/m.wall.Seconds(), maxRSS(ms)>>20)
	return nil
}

// writeSingle writes the file header of the first corpus file followed by
// the chunks of all corpus files, in order and repeated, up to n bytes.
func writeSingle(path string, files []string, n int64) error {
	const header, chunk = 4096, 65536
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	written := int64(0)
	for pass := 0; written < n; pass++ {
		before := written
		for _, fn := range files {
			data, err := os.ReadFile(fn)
			if err != nil {
				f.Close()
				return err
			}
			if len(data) < header || string(data[:8]) != "ElfFile\x00" {
				continue
			}
			if written == 0 {
				if _, err := f.Write(data[:header]); err != nil {
					f.Close()
					return err
				}
				written = header
			}
			for off := header; off+chunk <= len(data) && written < n; off += chunk {
				if string(data[off:off+8]) != "ElfChnk\x00" {
					continue
				}
				if _, err := f.Write(data[off : off+chunk]); err != nil {
					f.Close()
					return err
				}
				written += chunk
			}
			if written >= n {
				break
			}
		}
		if written == before {
			f.Close()
			return fmt.Errorf("corpus has no EVTX chunks to build a single file from")
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func timed(bin string, args ...string) (measure, error) {
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	start := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(start)}
	if cmd.ProcessState != nil {
		m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss * 1024
	}
	if err != nil {
		return m, fmt.Errorf("spoor %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return m, nil
}

func evtxBytes(dir string) (int64, []string) {
	var n int64
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".evtx") {
			if info, err := d.Info(); err == nil {
				n += info.Size()
				files = append(files, p)
			}
		}
		return nil
	})
	sort.Strings(files)
	return n, files
}

func manifestEvents(store string) int64 {
	b, err := os.ReadFile(filepath.Join(store, "manifest.json"))
	if err != nil {
		return 0
	}
	var m struct {
		Files []struct {
			Records int64 `json:"records"`
		} `json:"files"`
	}
	json.Unmarshal(b, &m)
	var n int64
	for _, f := range m.Files {
		n += f.Records
	}
	return n
}

func median(ms []measure) measure {
	s := append([]measure(nil), ms...)
	sort.Slice(s, func(i, j int) bool { return s[i].wall < s[j].wall })
	return s[len(s)/2]
}

func maxRSS(ms []measure) int64 {
	var m int64
	for _, x := range ms {
		m = max(m, x.maxRSS)
	}
	return m
}
