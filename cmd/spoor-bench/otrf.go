package main

// spoor-bench otrf: the OTRF Security-Datasets recordings as a detection
// bench. For each recording (a zip or tar.gz of collector JSON) it runs
// `spoor ingest` into a fresh store and the default `spoor hunt`, then
// reports the events ingested against the JSON lines in the archive, what
// the hunt flagged at medium and above, and whether a medium+ finding is
// tagged with a technique the recording's _metadata/SDWIN-*.yaml names.
// Detections never see the metadata: it is read here, after the hunt, to
// score it.
//
//	go run ./cmd/spoor-bench otrf [--corpus ../shared/samples/json/otrf] [--work DIR] [--md FILE]

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/attack"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// sdMeta is the part of an SDWIN-*.yaml the bench reads.
type sdMeta struct {
	ID             string `yaml:"id"`
	Title          string `yaml:"title"`
	AttackMappings []struct {
		Technique    string   `yaml:"technique"`
		SubTechnique string   `yaml:"sub-technique"`
		Tactics      []string `yaml:"tactics"`
	} `yaml:"attack_mappings"`
	Files []struct {
		Type string `yaml:"type"`
		Link string `yaml:"link"`
	} `yaml:"files"`
}

// otrfRow is one recording's result.
type otrfRow struct {
	rel        string // path under the corpus
	group      string // the corpus folder: lateral_movement, persistence, …
	meta       *sdMeta
	lines      int64 // JSON lines in the archive
	events     int64 // rows ingested
	skipped    int64
	medium     int      // medium+ findings
	rules      []string // their rule ids, distinct
	techniques []string // the metadata's techniques (T1021, T1021.002)
	fits       bool     // a medium+ finding carries one of them
	ingestCPU  time.Duration
	huntCPU    time.Duration
}

func runOTRF(args []string) error {
	fl := flag.NewFlagSet("otrf", flag.ContinueOnError)
	corpus := fl.String("corpus", filepath.Join("..", "shared", "samples", "json", "otrf"), "the OTRF corpus folder")
	work := fl.String("work", filepath.Join(os.TempDir(), "spoor-bench-otrf"), "work folder (binary, one store per recording)")
	md := fl.String("md", "", "also write the tables as Markdown to this file")
	only := fl.String("only", "", "only recordings whose path contains this")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*work, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(*work, "spoor")
	fmt.Fprintln(os.Stderr, "building spoor …")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/spoor").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	metas, err := readMetadata(filepath.Join(*corpus, "_metadata"))
	if err != nil {
		return err
	}
	var recs []string
	err = filepath.WalkDir(*corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".zip") || strings.HasSuffix(p, ".tar.gz")) && strings.Contains(p, *only) {
			recs = append(recs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(recs)
	var rows []otrfRow
	for i, p := range recs {
		rel, _ := filepath.Rel(*corpus, p)
		rel = filepath.ToSlash(rel)
		r := otrfRow{rel: rel, group: strings.SplitN(rel, "/", 2)[0], meta: metas[stem(p)]}
		if r.meta != nil {
			r.techniques = techniques(r.meta)
		}
		if r.lines, err = archiveLines(p); err != nil {
			fmt.Fprintf(os.Stderr, "%s: counting lines: %v\n", rel, err)
		}
		st := filepath.Join(*work, fmt.Sprintf("store-%03d", i))
		os.RemoveAll(st)
		m, err := timed(bin, "ingest", "--store", st, p)
		if err != nil {
			return err
		}
		r.ingestCPU = m.cpu
		h, err := timed(bin, "hunt", "--store", st)
		if err != nil {
			return err
		}
		r.huntCPU = h.cpu
		if err := score(&r, st); err != nil {
			return err
		}
		os.RemoveAll(st)
		fmt.Fprintf(os.Stderr, "%3d/%d %s: %d events (%d lines), %d medium+, fits=%v\n", i+1, len(recs), rel, r.events, r.lines, r.medium, r.fits)
		rows = append(rows, r)
	}
	var b strings.Builder
	writeOTRF(&b, rows)
	fmt.Print(b.String())
	if *md != "" {
		return os.WriteFile(*md, []byte(b.String()), 0o644)
	}
	return nil
}

// stem is a recording's name without folder and archive extension: the
// key between the corpus and its metadata's file links.
func stem(p string) string {
	b := path.Base(filepath.ToSlash(p))
	b = strings.TrimSuffix(b, ".tar.gz")
	return strings.TrimSuffix(b, ".zip")
}

func readMetadata(dir string) (map[string]*sdMeta, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]*sdMeta{}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var m sdMeta
		if err := yaml.Unmarshal(b, &m); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v (skipped)\n", e.Name(), err)
			continue
		}
		for _, f := range m.Files {
			if strings.EqualFold(f.Type, "host") {
				out[stem(f.Link)] = &m
			}
		}
	}
	return out, nil
}

// techniques are the metadata's ATT&CK ids, T1021 and T1021.002 forms.
func techniques(m *sdMeta) []string {
	var out []string
	for _, a := range m.AttackMappings {
		t := strings.ToUpper(strings.TrimSpace(a.Technique))
		if t == "" {
			continue
		}
		out = append(out, t)
		if s := strings.TrimSpace(a.SubTechnique); s != "" {
			out = append(out, t+"."+s)
		}
	}
	return out
}

// archiveLines counts the non-blank lines of the JSON files in a zip or
// tar.gz (macOS resource forks left out), independently of spoor.
func archiveLines(p string) (int64, error) {
	count := func(r io.Reader) (int64, error) {
		var n int64
		br := bufio.NewReaderSize(r, 1<<20)
		for {
			line, err := br.ReadSlice('\n')
			if len(bytes.TrimSpace(line)) > 0 && !errors.Is(err, bufio.ErrBufferFull) {
				n++
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				// a long line: count it once, at its end
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = br.ReadSlice('\n')
				}
				n++
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				return n, err
			}
		}
	}
	var total int64
	if strings.HasSuffix(p, ".zip") {
		zr, err := zip.OpenReader(p)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return total, err
			}
			n, err := count(rc)
			rc.Close()
			total += n
			if err != nil {
				return total, err
			}
		}
		return total, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		if h.Typeflag == tar.TypeReg {
			n, err := count(tr)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
}

// score reads the store after the hunt.
func score(r *otrfRow, dir string) error {
	st, err := store.OpenExisting(dir)
	if err != nil {
		return err
	}
	for _, f := range st.Manifest().Files {
		r.events += f.Records
		r.skipped += f.Skipped
	}
	fs, err := st.Findings()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if event.Rank(f.Severity) < event.Rank(event.SevMedium) {
			continue
		}
		r.medium++
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			r.rules = append(r.rules, f.RuleID)
		}
		for _, t := range attack.Techniques(f.Tags) {
			for _, want := range r.techniques {
				// A finding's sub-technique fits its parent, and the parent
				// fits a sub-technique the metadata names.
				if t == want || strings.HasPrefix(t, want+".") || strings.HasPrefix(want, t+".") {
					r.fits = true
				}
			}
		}
	}
	sort.Strings(r.rules)
	return nil
}

func writeOTRF(b *strings.Builder, rows []otrfRow) {
	type agg struct{ n, meta, flagged, fits, linesOK int }
	groups := map[string]*agg{}
	var names []string
	var tot agg
	var events, lines int64
	var ingestCPU, huntCPU time.Duration
	fmt.Fprintf(b, "| recording | techniques (metadata) | JSON lines | events | medium+ | rules | fits |\n| --- | --- | ---: | ---: | ---: | --- | --- |\n")
	for _, r := range rows {
		g := groups[r.group]
		if g == nil {
			g = &agg{}
			groups[r.group] = g
			names = append(names, r.group)
		}
		for _, a := range []*agg{g, &tot} {
			a.n++
			if r.meta != nil {
				a.meta++
			}
			if r.medium > 0 {
				a.flagged++
			}
			if r.fits {
				a.fits++
			}
			if r.events == r.lines && r.skipped == 0 {
				a.linesOK++
			}
		}
		events += r.events
		lines += r.lines
		ingestCPU += r.ingestCPU
		huntCPU += r.huntCPU
		fits := "no"
		if r.fits {
			fits = "yes"
		}
		tech := strings.Join(r.techniques, " ")
		if r.meta == nil {
			tech, fits = "(no metadata)", "–"
		}
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %s | %s |\n", r.rel, tech, r.lines, r.events, r.medium, strings.Join(r.rules, " "), fits)
	}
	sort.Strings(names)
	fmt.Fprintf(b, "\n| folder (tactic) | recordings | one row per JSON line | medium+ finding | with metadata | medium+ finding that fits it |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	pct := func(a, n int) string { return fmt.Sprintf("%d (%.0f%%)", a, 100*float64(a)/float64(max(n, 1))) }
	for _, name := range names {
		g := groups[name]
		fmt.Fprintf(b, "| %s | %d | %s | %s | %d | %s |\n", name, g.n, pct(g.linesOK, g.n), pct(g.flagged, g.n), g.meta, pct(g.fits, g.meta))
	}
	fmt.Fprintf(b, "| **all** | %d | %s | %s | %d | %s |\n", tot.n, pct(tot.linesOK, tot.n), pct(tot.flagged, tot.n), tot.meta, pct(tot.fits, tot.meta))
	fmt.Fprintf(b, "\n%d events from %d JSON lines; ingest %.1f CPU-s, hunt %.1f CPU-s in all\n", events, lines, ingestCPU.Seconds(), huntCPU.Seconds())
}
