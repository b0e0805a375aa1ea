package event

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNormIP(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"10.0.0.5":               "10.0.0.5",
		"::ffff:10.0.0.5":        "10.0.0.5",
		"2001:DB8:0:0:0:0:0:1":   "2001:db8::1",
		"fe80::1%eth0":           "fe80::1%eth0",
		"LOCAL":                  "LOCAL", // not an address: kept as the source wrote it
		"10.0.0.5:3389":          "10.0.0.5:3389",
		"0000:0000::0000:0001":   "::1",
		"::ffff:192.168.001.002": "::ffff:192.168.001.002", // does not parse (leading zeros): kept
	} {
		if got := NormIP(in); got != want {
			t.Errorf("NormIP(%q) = %q, want %q", in, got, want)
		}
	}
}

func column(t *testing.T, name string) *Column {
	i, ok := ColumnIndex(name)
	if !ok {
		t.Fatalf("no column %s", name)
	}
	return &Columns[i]
}

// TestColumnsNullAndZero: a number stated as 0 is 0, one not stated is
// NULL; "" is NULL for strings; text parses decimal (never octal) or 0x hex.
func TestColumnsNullAndZero(t *testing.T) {
	var ev Event
	lt, port, ip, id := column(t, "logon_type"), column(t, "dst_port"), column(t, "src_ip"), column(t, "event_id")
	if !lt.Get(&ev).Null || !ip.Get(&ev).Null || !id.Get(&ev).Null {
		t.Fatal("an empty event has values")
	}
	if err := lt.SetString(&ev, "0"); err != nil || ev.LogonType != Some[int32](0) || lt.Get(&ev).Null {
		t.Fatalf("logon_type 0: %v %+v", err, ev.LogonType)
	}
	if err := port.SetString(&ev, "010"); err != nil || ev.DstPort.V != 10 {
		t.Fatalf("010 read as %+v (%v)", ev.DstPort, err)
	}
	if err := id.SetString(&ev, "0x1210"); err != nil || ev.EventID != 4624 {
		t.Fatalf("0x1210 read as %d (%v)", ev.EventID, err)
	}
	if err := port.SetString(&ev, "http"); err == nil || !strings.Contains(err.Error(), "dst_port") {
		t.Fatalf("a word as a port: %v", err)
	}
	if err := id.SetString(&ev, "4294967296"); err == nil {
		t.Fatal("event_id out of int32 range accepted")
	}
	if err := lt.SetString(&ev, ""); err != nil || ev.LogonType.Valid {
		t.Fatalf("clearing logon_type: %v %+v", err, ev.LogonType)
	}
	ev.SrcIP = "::ffff:10.1.2.3"
	if v := ip.Get(&ev); v.Str != "10.1.2.3" {
		t.Fatalf("src_ip read as %q", v.Str)
	}
	js := string(ColumnsJSON(Columns, &ev))
	for _, want := range []string{`"logon_type":null`, `"dst_port":10`, `"src_ip":"10.1.2.3"`, `"event_id":4624`, `"offset":0`, `"host":null`} {
		if !strings.Contains(js, want) {
			t.Errorf("ColumnsJSON lacks %s: %s", want, js)
		}
	}
}

// TestColumnsTable: names unique, every column readable and writable,
// rule variables unique.
func TestColumnsTable(t *testing.T) {
	names, vars := map[string]bool{}, map[string]bool{}
	for _, c := range Columns {
		if names[c.Name] || vars[c.Var] || c.Get == nil || c.Set == nil || c.Field == "" || c.Doc == "" {
			t.Errorf("column %+v: duplicate or incomplete", c.Name)
		}
		names[c.Name], vars[c.Var] = true, true
	}
	if len(Columns) > 63 {
		t.Fatal("the store's column sets hold 64 columns with fields")
	}
}

// FuzzNormIP holds NormIP to its definition: the address's net/netip
// canonical text, unmapped, or the input unchanged when it does not
// parse.
func FuzzNormIP(f *testing.F) {
	for _, s := range []string{"", "10.0.0.5", "::ffff:10.0.0.5", "2001:DB8::1", "fe80::1%eth0", "010.0.0.1", "1.2.3.4%x", "LOCAL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := s
		if a, err := netip.ParseAddr(s); err == nil {
			want = a.Unmap().String()
		}
		if got := NormIP(s); got != want {
			t.Fatalf("NormIP(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkNormIPv4(b *testing.B) {
	for i := 0; i < b.N; i++ {
		NormIP("10.20.30.40")
	}
}
