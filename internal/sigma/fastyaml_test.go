package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/testutil"
	"github.com/spoor-dfir/spoor/rules"
)

// goYAMLDocs decodes data with go-yaml as splitDocs did: every document.
func goYAMLDocs(data []byte) ([]yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
}

// sameNode compares what the Sigma compiler reads of a node tree.
func sameNode(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: fast {kind %d style %d tag %s value %q at %d:%d, %d children}, go-yaml {kind %d style %d tag %s value %q at %d:%d, %d children}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if err := sameNode(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkFast requires fastDoc, where it reads a text, to read it as
// go-yaml does; it reports whether it read it, and the two readings.
// slab is fastDoc's (nil: none).
func checkFast(t *testing.T, name string, data []byte, slab *[]yaml.Node) (ok bool, fast, want *yaml.Node) {
	t.Helper()
	fast, ok = fastDoc(data, slab)
	if !ok {
		return false, nil, nil
	}
	docs, err := goYAMLDocs(data)
	if err != nil {
		t.Errorf("%s: read by the fast path, go-yaml refuses it: %v", name, err)
		return true, nil, nil
	}
	if len(docs) != 1 {
		t.Errorf("%s: one document read, go-yaml reads %d", name, len(docs))
		return true, nil, nil
	}
	if err := sameNode(fast, docs[0].Content[0], name); err != nil {
		t.Error(err)
	}
	return true, fast, docs[0].Content[0]
}

// TestFastYAMLAgreesWithGoYAML reads every shipped SigmaHQ rule and every
// rule of the shared SigmaHQ checkout (when present) both ways, and
// requires the fast path to take nearly all shipped ones.
func TestFastYAMLAgreesWithGoYAML(t *testing.T) {
	fast, total := checkFastAll(t, rules.SigmaFS, "sigma")
	t.Logf("shipped rules: %d of %d read by the fast path", fast, total)
	if total < 2000 || fast*10 < total*9 {
		t.Errorf("the fast path read %d of %d shipped rules; want nine in ten", fast, total)
	}
	if dir, ok := testutil.SharedPath(t, "sigma"); ok {
		fast, total := checkFastAll(t, os.DirFS(dir), ".")
		t.Logf("shared SigmaHQ files: %d of %d read by the fast path", fast, total)
	}
}

// checkFastAll runs checkFast on every YAML file under root of fsys and
// counts the files the fast path read.
func checkFastAll(t *testing.T, fsys fs.FS, root string) (fast, total int) {
	t.Helper()
	var slab []yaml.Node
	var prev struct {
		name       string
		fast, want *yaml.Node
	}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		total++
		// The documents share the nodes' room, as a compiling worker's
		// do: reading one must leave the one before as it was.
		ok, f, w := checkFast(t, p, data, &slab)
		if ok {
			fast++
		}
		if prev.fast != nil {
			if err := sameNode(prev.fast, prev.want, prev.name+" (after "+p+")"); err != nil {
				t.Error(err)
			}
		}
		prev.name, prev.fast, prev.want = p, f, w
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fast, total
}

// FuzzFastYAML: whatever text the fast path reads, it reads as go-yaml.
func FuzzFastYAML(f *testing.F) {
	for _, s := range []string{
		"title: x\nid: 1\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image|endswith:\n      - '\\\\a.exe'\n      - \"b\\\\c\"\n  condition: sel\n",
		"a: |\n  x\n\n  y\nb: c # d\ntags:\n- e\n- f\n",
		"a:\n  - k: v\n    l: w\n  - x\nb: 0x10\nc: ~\nd: 'it''s'\ne: 1.5\nf: true\n",
		"description: one\n  two\n  three\nx: |-\n  a\n    b\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkFast(t, "fuzz", []byte(s), nil)
	})
}
