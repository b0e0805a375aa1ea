package textfmt

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

//go:embed formats/*.yaml
var builtin embed.FS

// Builtin returns the format definitions shipped with spoor, in name
// order.
func Builtin() ([]input.Parser, error) {
	fs, err := BuiltinFormats()
	if err != nil {
		return nil, err
	}
	return parsers(fs), nil
}

// BuiltinFormats is Builtin with the concrete type.
func BuiltinFormats() ([]*Format, error) {
	return loadFS(builtin, "formats", "formats/")
}

// LoadDir loads every *.yaml and *.yml definition in dir (not
// recursively), for `spoor ingest --formats DIR`. All errors of all files
// are returned together, each with file:line:col.
func LoadDir(dir string) ([]input.Parser, error) {
	fs, err := LoadDirFormats(dir)
	if err != nil {
		return nil, err
	}
	return parsers(fs), nil
}

// LoadDirFormats is LoadDir with the concrete type.
func LoadDirFormats(dir string) ([]*Format, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("--formats: %w", err)
	}
	return loadFS(os.DirFS(dir), ".", filepath.ToSlash(dir)+"/")
}

func loadFS(fsys fs.FS, dir, shown string) ([]*Format, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []*Format
	var errs []error
	seen := map[string]string{}
	for _, n := range names {
		data, err := fs.ReadFile(fsys, path.Join(dir, n))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		file := shown + n
		f, err := Load(file, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[f.Name()]; dup {
			errs = append(errs, fmt.Errorf("%s: format name %q already defined in %s", file, f.Name(), prev))
			continue
		}
		seen[f.Name()] = file
		out = append(out, f)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parsers(fs []*Format) []input.Parser {
	out := make([]input.Parser, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}
