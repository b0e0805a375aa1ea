package sqlexport

import (
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/caseconf"
)

// FuzzCompileCondition: any condition text compiles to SQL or to an
// error, in every dialect, without panicking.
func FuzzCompileCondition(f *testing.F) {
	for _, s := range []string{
		`event_id == 4720`,
		`let w = ["a", "b"]; contains_any(command_line, w) && !business_hours(time)`,
		`provider(user) || provider_ip(src_ip) && cidr(dst_ip, "10.0.0.0/8")`,
		`lower(field("A")) != lower(field("B")) ? true : has_field("C")`,
		`re(command_line, "(?i)net\\s+user") && logon_type in [2, 10]`,
	} {
		f.Add(s)
	}
	cfg := caseconf.Default()
	f.Fuzz(func(t *testing.T, src string) {
		for _, d := range Dialects {
			compileCondition(d, cfg, newSlots(), src)
		}
	})
}

// FuzzCompileSigma: any YAML document compiles to SQL or to an error,
// without panicking.
func FuzzCompileSigma(f *testing.F) {
	f.Add([]byte("logsource: {category: process_creation, product: windows}\ndetection:\n  sel:\n    CommandLine|windash|contains|all: [' -enc ', x]\n  f:\n    User: null\n  condition: sel and not 1 of f*\n"))
	f.Add([]byte("logsource: {product: windows, service: security}\ndetection:\n  a:\n    IpAddress|cidr: 10.0.0.0/8\n    IpPort|gte: 1\n  condition: all of them\n"))
	f.Add([]byte("detection:\n  k: [x, y]\n  condition: k | count() > 5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc yaml.Node
		if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
			return
		}
		for _, d := range Dialects {
			compileSigma(d, newSlots(), doc.Content[0])
		}
	})
}
