package detectcheck

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/ingest/firewall"
	"github.com/spoor-dfir/spoor/internal/ingest/ingesttest"
	"github.com/spoor-dfir/spoor/internal/ingest/input"
	"github.com/spoor-dfir/spoor/internal/ingest/rmm"
	"github.com/spoor-dfir/spoor/internal/ingest/textfmt"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// mine are the samples the RMM parsers and shipped definitions own, with
// the format each must be detected as.
var mine = map[string]string{
	"firewall/other_vendors/ossec-docs_firewalls_isaserver.log":                       "isa-server",
	"firewall/other_vendors/ossec-docs_firewalls_netscreen.log":                       "netscreen",
	"firewall/other_vendors/ossec-docs_firewalls_sonicwall.log":                       "sonicwall",
	"firewall/other_vendors/wazuh_SonicWall.log":                                      "sonicwall",
	"firewall/other_vendors/wazuh_checkpoint_smart1.log":                              "checkpoint",
	"firewall/other_vendors/wazuh_fortiauth.log":                                      "fortiauthenticator",
	"firewall/other_vendors/wazuh_fortiddos.log":                                      "fortiddos",
	"firewall/other_vendors/wazuh_huawei_usg.log":                                     "huawei-usg",
	"firewall/other_vendors/wazuh_junos.log":                                          "junos",
	"firewall/other_vendors/wazuh_netscreen.log":                                      "netscreen",
	"firewall/pf_openbsd/ossec-docs_firewalls_pf.log":                                 "pf-openbsd",
	"rmm/anydesk/anydesk-kb_connection_trace.EXAMPLE.txt":                             "anydesk-connection-trace",
	"rmm/anydesk/artemis-api_anydesk.trace":                                           "anydesk-trace",
	"rmm/anydesk/artemis-api_anydesk_var_log.trace":                                   "anydesk-trace",
	"rmm/datto/kaseya-helpdesk_AEMAgent.EXCERPT.log":                                  "datto-rmm",
	"rmm/kaseya/ruler-project_KaseyaEndpoint.EXCERPT.log":                             "kaseya-endpoint",
	"rmm/teamviewer/HTB-Holmes2025-WatchmansResidue_Connections_incoming.txt":         "teamviewer-connections",
	"rmm/teamviewer/HTB-Holmes2025-WatchmansResidue_TeamViewer15_Logfile.EXCERPT.log": "teamviewer-logfile",
	"rmm/teamviewer/ctf-4orensics-2016_Connections_incoming.txt":                      "teamviewer-connections",
	"rmm/teamviewer/ctf-writeup-a1l4m_Connections_incoming.txt":                       "teamviewer-connections",
	"rmm/tightvnc/ossec-docs_tightvnc_WinVNC.log":                                     "tightvnc",
}

func load(t *testing.T, path string) *input.Input {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return ingesttest.Input(data, path, caseconf.Default())
}

func TestSamplesDetectedAcrossAllParsers(t *testing.T) {
	root := testutil.Shared(t, "samples")
	decl, err := textfmt.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	var all []input.Parser
	for _, p := range append(rmm.Parsers(), decl...) {
		ours[p.Name()] = true
		all = append(all, p)
	}
	all = append(all, firewall.Parsers()...)
	names := map[string]bool{}
	for _, p := range all {
		if names[p.Name()] {
			t.Errorf("format name %q used twice", p.Name())
		}
		names[p.Name()] = true
	}
	var files []string
	for _, sub := range []string{"firewall", "rmm"} {
		filepath.WalkDir(filepath.Join(root, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.Contains(p, "_format_refs") {
				return nil
			}
			n := strings.ToLower(d.Name())
			for _, suf := range []string{".md", ".rst", ".conf", ".ini"} {
				if strings.HasSuffix(n, suf) {
					return nil
				}
			}
			if strings.HasPrefix(n, "license") {
				return nil
			}
			files = append(files, p)
			return nil
		})
	}
	sort.Strings(files)
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		in := load(t, p)
		best, score := "", 0
		var ourClaims []string
		for _, ps := range all {
			s := ps.Detect(in)
			if s > score {
				best, score = ps.Name(), s
			} else if s == score && s > 0 {
				t.Errorf("%s: %s and %s both score %d", rel, best, ps.Name(), s)
			}
			if s > 0 && ours[ps.Name()] {
				ourClaims = append(ourClaims, ps.Name())
			}
		}
		if want, ok := mine[rel]; ok {
			if best != want {
				t.Errorf("%s: detected as %q (score %d), want %q", rel, best, score, want)
			}
			continue
		}
		if len(ourClaims) > 0 {
			t.Errorf("%s (a built-in parser's format) is claimed by %v", rel, ourClaims)
		}
	}
}
