package yamlx

import (
	"strings"
	"testing"
)

type inner struct {
	Name string `yaml:"name"`
}

type doc struct {
	Title string           `yaml:"title"`
	Items []inner          `yaml:"items"`
	Bykey map[string]inner `yaml:"by_key"`
}

func TestUnknownKeysAllReportedWithPositions(t *testing.T) {
	src := "title: x\nitems:\n  - name: a\n    nmae: b\nby_key:\n  k: {name: c, extra: 1}\ntitel: y\n"
	var d doc
	err := Unmarshal("f.yaml", []byte(src), &d)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{`f.yaml:4:5: unknown key "nmae"`, `f.yaml:6:16: unknown key "extra"`, `f.yaml:7:1: unknown key "titel"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
}

func TestSyntaxAndTypeErrorsHavePositions(t *testing.T) {
	var d doc
	err := Unmarshal("bad.yaml", []byte("title: [unclosed\n"), &d)
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml:") {
		t.Fatalf("syntax error: %v", err)
	}
	err = Unmarshal("type.yaml", []byte("title: x\nitems: 5\n"), &d)
	if err == nil || !strings.HasPrefix(err.Error(), "type.yaml:2:") {
		t.Fatalf("type error: %v", err)
	}
}

func TestDecodesValid(t *testing.T) {
	var d doc
	if err := Unmarshal("ok.yaml", []byte("title: x\nitems: [{name: a}]\n"), &d); err != nil {
		t.Fatal(err)
	}
	if d.Title != "x" || len(d.Items) != 1 || d.Items[0].Name != "a" {
		t.Fatalf("%+v", d)
	}
	if err := Unmarshal("empty.yaml", nil, &d); err != nil {
		t.Fatalf("empty document: %v", err)
	}
}

func TestTopValue(t *testing.T) {
	data := []byte("title: x\n  status: nested\nstatusx: no\nstatus :  test \r\nauthor:\tA, B\n")
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{{"status", "test", true}, {"author", "A, B", true}, {"title", "x", true}, {"filter", "", false}, {"statu", "", false}} {
		got, ok := TopValue(data, tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("TopValue(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}
