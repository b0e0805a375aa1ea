package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spoor-dfir/spoor/internal/rule"
)

// userRulesDir is the user rules folder: $SPOOR_RULES_DIR, else
// spoor/rules in the user config folder ("" when there is none).
func userRulesDir() string {
	if d := os.Getenv("SPOOR_RULES_DIR"); d != "" {
		return d
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "spoor", "rules")
}

// countFrom counts the rules loaded from files under dir.
func countFrom(rules []*rule.Rule, dir string) int {
	n := 0
	prefix := filepath.Clean(dir) + string(filepath.Separator)
	for _, r := range rules {
		if strings.HasPrefix(r.File, prefix) {
			n++
		}
	}
	return n
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// maxRuleFile bounds one rule file read from an archive (SigmaHQ's
// largest Windows rule is under 100 KiB).
const maxRuleFile = 4 << 20

// rulesUpdate copies the Windows rules of a SigmaHQ checkout or release
// archive into DIR/sigma/windows, replacing what an earlier update put
// there, so the next hunt runs them in place of the shipped ones with
// the same ID. Nothing is fetched: spoor needs no network at run time.
func rulesUpdate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rules update", stderr)
	to := fs.String("to", userRulesDir(), "user rules folder")
	fs.Usage = func() {
		fmt.Fprintln(stderr, rulesUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{"rules update takes one PATH: a SigmaHQ checkout or release archive (.zip, .tar.gz)"}
	}
	if *to == "" {
		return &usageError{"no user rules folder: set --to or SPOOR_RULES_DIR"}
	}
	src := fs.Arg(0)
	files, err := readSigmaWindows(src)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%s: no Sigma rules under rules/windows (want a SigmaHQ checkout or release archive)", src)
	}
	// Only rules that parse as Sigma are taken, so a broken download
	// cannot replace working rules.
	names := make([]string, 0, len(files))
	for n, data := range files {
		if !rule.IsSigma(data) {
			fmt.Fprintf(stderr, "rules update: %s: not a Sigma rule, skipped\n", n)
			delete(files, n)
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	if err := os.MkdirAll(*to, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(*to, ".sigma-update-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, n := range names {
		p := filepath.Join(tmp, "windows", filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			return err
		}
	}
	note := fmt.Sprintf("SigmaHQ Windows rules copied by spoor rules update from %s (%d files).\nLicensed under the Detection Rule License 1.1: https://github.com/SigmaHQ/Detection-Rule-License\n", src, len(names))
	if err := os.WriteFile(filepath.Join(tmp, "SOURCE"), []byte(note), 0o644); err != nil {
		return err
	}
	dst := filepath.Join(*to, "sigma")
	old := dst + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dst, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Rename(old, dst)
		return err
	}
	os.RemoveAll(old)
	fmt.Fprintf(stderr, "rules update: %d SigmaHQ Windows rules from %s → %s\n", len(names), src, dst)
	fmt.Fprintln(stdout, dst)
	return nil
}

// windowsRel is the path of a rule file below rules/windows/ (in a
// checkout, or an archive with or without a top folder), or "".
func windowsRel(p string) string {
	p = path.Clean(strings.ReplaceAll(p, `\`, "/"))
	if strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return ""
	}
	i := strings.Index("/"+p, "/rules/windows/")
	if i < 0 {
		return ""
	}
	rel := ("/" + p)[i+len("/rules/windows/"):]
	if ext := strings.ToLower(path.Ext(rel)); ext != ".yml" && ext != ".yaml" {
		return ""
	}
	for _, part := range strings.Split(rel, "/") {
		if part == ".." || strings.HasPrefix(part, ".") {
			return ""
		}
	}
	return rel
}

// readSigmaWindows reads the rules/windows rule files of a checkout
// folder, a .zip or a .tar.gz, keyed by their path below rules/windows.
func readSigmaWindows(src string) (map[string][]byte, error) {
	st, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	if st.IsDir() {
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			if n := windowsRel(filepath.ToSlash(rel)); n != "" {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				out[n] = b
			}
			return nil
		})
		return out, err
	}
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lower := strings.ToLower(src)
	switch {
	case strings.HasSuffix(lower, ".zip"):
		zr, err := zip.NewReader(f, st.Size())
		if err != nil {
			return nil, fmt.Errorf("%s: %v", src, err)
		}
		for _, zf := range zr.File {
			n := windowsRel(zf.Name)
			if n == "" || zf.FileInfo().IsDir() {
				continue
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", src, zf.Name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxRuleFile+1))
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", src, zf.Name, err)
			}
			if len(b) > maxRuleFile {
				return nil, fmt.Errorf("%s: %s: larger than %d bytes", src, zf.Name, maxRuleFile)
			}
			out[n] = b
		}
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", src, err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %v", src, err)
			}
			n := windowsRel(h.Name)
			if n == "" || h.Typeflag != tar.TypeReg {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(tr, maxRuleFile+1))
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", src, h.Name, err)
			}
			if len(b) > maxRuleFile {
				return nil, fmt.Errorf("%s: %s: larger than %d bytes", src, h.Name, maxRuleFile)
			}
			out[n] = b
		}
	default:
		return nil, &usageError{fmt.Sprintf("%s: want a SigmaHQ checkout folder, .zip or .tar.gz", src)}
	}
	return out, nil
}
