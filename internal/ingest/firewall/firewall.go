// Package firewall parses firewall and network-monitor logs into events:
// Windows Firewall pfirewall.log, FortiGate, pfSense/OPNsense filterlog,
// Cisco ASA/PIX/FTD, iptables/netfilter, Palo Alto, Sophos (XG/SFOS, UTM,
// and the Sophos anti-virus logs that come with them) and Zeek (TSV and
// JSON). Each format is one input.Parser in its own file; Parsers lists
// them explicitly.
//
// All parsers share one line loop (lines.go): every line is either an
// event, ignorable structure (blank, comment, header), or counted as
// skipped with a reason and its line number, so no line disappears
// silently.
package firewall

import (
	"github.com/spoor-dfir/spoor/internal/ingest/input"
)

// Parsers returns one parser per firewall format, in a fixed order.
func Parsers() []input.Parser {
	return []input.Parser{
		PFirewall{},
		FortiGate{},
		Filterlog{},
		ASA{},
		IPTables{},
		PaloAlto{},
		Sophos{},
		SophosAV{},
		Zeek{},
		ZeekJSON{},
	}
}
