package event

import (
	"testing"

	"github.com/Velocidex/ordereddict"
)

// checkLookup holds LookupField, HasField and Field over RawFields to what
// the decoded dict says, for every key of s and for absent keys.
func checkLookup(t *testing.T, s string) {
	t.Helper()
	d, err := UnmarshalFieldsString(s)
	if err != nil {
		return
	}
	// The store holds what MarshalFields writes (unique keys), so that is
	// the form held to the dict.
	b, err := MarshalFields(d)
	if err != nil {
		return
	}
	s = string(b)
	full := &Event{Fields: d}
	raw := &Event{RawFields: s}
	names := append(d.Keys(), "", "absent", "Absent_Key")
	for _, k := range names {
		_, want := d.Get(k)
		if got := raw.HasField(k); got != want {
			t.Fatalf("%q: HasField(%q) = %v, want %v", s, k, got, want)
		}
		if got, want := raw.Field(k), full.Field(k); got != want {
			t.Fatalf("%q: Field(%q) = %q, want %q", s, k, got, want)
		}
	}
}

func TestLookupField(t *testing.T) {
	nested := ordereddict.NewDict().Set("Inner", "v").Set("N", int64(3))
	d := ordereddict.NewDict().
		Set("TargetUserName", "alice").
		Set("Path", `C:\Windows\System32\cmd.exe`).
		Set("Quote", `say "hi" \"`).
		Set("Empty", "").
		Set("Num", int64(4624)).
		Set("Nested", nested).
		Set("List", []any{"a", int64(1), ordereddict.NewDict().Set("x", "}")}).
		Set("Null", nil).
		Set(`Odd"Key`, "odd").
		Set("Last", "end")
	b, err := MarshalFields(d)
	if err != nil {
		t.Fatal(err)
	}
	checkLookup(t, string(b))
	raw := &Event{RawFields: string(b)}
	if got := raw.Field("Path"); got != `C:\Windows\System32\cmd.exe` {
		t.Fatalf("escaped value: %q", got)
	}
	if got := raw.Field("Num"); got != "4624" {
		t.Fatalf("number: %q", got)
	}
	if got := raw.Field("Last"); got != "end" {
		t.Fatalf("value after nested structures: %q", got)
	}
	if got := raw.FieldDict(); got == nil || got.Len() != d.Len() {
		t.Fatalf("FieldDict: %v", got)
	}
	for _, bad := range []string{"", "[]", "{", `{"a"`, `{"a":`, `{"a" "x"}`, "null", `{"b":"x",}`} {
		if v, ok := LookupField(bad, "a"); ok {
			t.Errorf("LookupField(%q) = %q, true", bad, v)
		}
	}
}

func FuzzLookupField(f *testing.F) {
	f.Add(`{"a":"b","c":{"d":"}"},"e":[1,"]"],"f":"g\"h"}`)
	f.Add(`{"TargetUserName":"x\\y","N":12.5,"z":null}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		LookupField(s, "a")
		checkLookup(t, s)
	})
}

func BenchmarkLookupField(b *testing.B) {
	d := ordereddict.NewDict()
	for _, k := range []string{"ProcessID", "Application", "Direction", "SourceAddress", "SourcePort", "DestAddress", "DestPort", "Protocol", "FilterRTID", "LayerName", "LayerRTID", "RemoteUserID", "RemoteMachineID"} {
		d.Set(k, `\device\harddiskvolume2\windows\system32\svchost.exe`)
	}
	raw, _ := MarshalFields(d)
	s := string(raw)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, ok := LookupField(s, "DestPort"); !ok {
			b.Fatal("missing")
		}
	}
}
