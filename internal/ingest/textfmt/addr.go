package textfmt

import (
	"net/netip"
	"strconv"
	"strings"
)

// splitAddr reads an address as firewalls write it: "1.2.3.4",
// "1.2.3.4:80", "[v6]:80", "1.2.3.4:80:WAN" (SonicWall zone),
// "10.1.1.1::X0" (no port), or tcpdump's "1.2.3.4.80". port is -1 when
// none was given; ok=false when no address was found.
func splitAddr(s string) (ip string, port int, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", -1, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String(), -1, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().String(), int(ap.Port()), true
	}
	// ip:port:zone… and ip::zone (IPv4 only: IPv6 has its own colons).
	if i := strings.IndexByte(s, ':'); i > 0 {
		if a, err := netip.ParseAddr(s[:i]); err == nil && a.Is4() {
			rest := s[i+1:]
			if j := strings.IndexByte(rest, ':'); j >= 0 {
				rest = rest[:j]
			}
			if p, err := strconv.Atoi(rest); err == nil && p >= 0 && p <= 65535 {
				return a.String(), p, true
			}
			return a.String(), -1, true
		}
	}
	// tcpdump: a.b.c.d.port
	if strings.Count(s, ".") == 4 {
		i := strings.LastIndexByte(s, '.')
		if a, err := netip.ParseAddr(s[:i]); err == nil {
			if p, err := strconv.Atoi(s[i+1:]); err == nil && p >= 0 && p <= 65535 {
				return a.String(), p, true
			}
		}
	}
	return "", -1, false
}
