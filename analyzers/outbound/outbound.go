// Package outbound looks for unusual traffic leaving the company, from
// firewall logs, Sysmon 3 and Security 5156: first-seen external
// destinations against a baseline period, per-host outbound volume far
// above the host's own baseline (median and MAD), beaconing, unusual ports
// from servers, off-hours bulk transfers and IOC hits, honouring the
// case's allow-lists. See README.md.
package outbound

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/analyzers/akit"
	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
)

// Name is the analyzer's name in findings.
const Name = "outbound"

// Thresholds, documented in README.md.
const (
	MB = 1 << 20
	// BulkBytes is the outbound volume to one destination within one
	// off-hours hour that counts as a bulk transfer.
	BulkBytes = 100 * MB
	// VolumeMinBytes is the smallest daily volume a volume anomaly needs.
	VolumeMinBytes = 100 * MB
	// VolumeZ is the robust z-score ((x-median)/(1.4826·MAD)) from which a
	// day is anomalous.
	VolumeZ = 10.0
	// BeaconMin is the number of connections a beacon needs.
	BeaconMin = 12
	// BeaconJitter is the largest MAD/median of the intervals of a beacon.
	BeaconJitter = 0.1
	// BeaconMaxInterval is the longest beacon period considered: daily
	// jobs are regular too, and are not check-ins.
	BeaconMaxInterval = 3600
	maxPairs          = 50_000
	maxPairTimes      = 128
	// bulkMinFlow is the smallest flow counted towards an off-hours bulk
	// transfer: it keeps the hour buckets few (bulk is 100 MB an hour; a
	// transfer split into smaller flows still shows in the daily volume).
	bulkMinFlow = 1 * MB
	maxIOCHits  = 10_000
)

type dstStat struct {
	first     time.Time
	firstHost string
	firstRef  event.Ref
	count     int
	bytes     int64
	hosts     []string
	byDay     map[int32]int64
}

type pair struct {
	host, dst string
	times     []uint32 // unix seconds, first maxPairTimes
	last      int64    // unix seconds of the latest connection
	count     int
	bytes     int64
	first     event.Ref
}

type bulk struct {
	host, dst string
	hour      int64
	bytes     int64
	conns     int
	refs      []event.Ref
}

type portKey struct {
	host string
	port int32
}

type portStat struct {
	first time.Time
	count int
	bytes int64
	dsts  []string
	ref   event.Ref
}

type iocHit struct {
	t         time.Time
	host, dst string
	port      int32
	bytes     int64
	blocked   bool
	ref       event.Ref
}

// Analyzer is the outbound analyzer; build it with New.
type Analyzer struct {
	cfg     *caseconf.Config
	in      akit.Interner
	dsts    map[string]*dstStat
	hostDay map[string]map[int32]int64
	pairs   map[string]*pair
	bulks   map[string]*bulk
	ports   map[portKey]*portStat
	iocs    []iocHit
	ipName  map[string]string // internal address → host name, from host logs
	first   time.Time
	last    time.Time
	conns   int
	lower   *akit.Memo1 // strings.ToLower of the last channel
}

// New returns an outbound analyzer for a case.
func New(cfg *caseconf.Config) *Analyzer {
	return &Analyzer{lower: akit.NewMemo1(strings.ToLower), cfg: cfg, in: akit.Interner{}, dsts: map[string]*dstStat{}, hostDay: map[string]map[int32]int64{},
		pairs: map[string]*pair{}, bulks: map[string]*bulk{}, ports: map[portKey]*portStat{}, ipName: map[string]string{}}
}

// Name implements analyzers.Analyzer.
func (a *Analyzer) Name() string { return Name }

// Observe implements analyzers.Analyzer.
func (a *Analyzer) Observe(ev *event.Event) {
	var host, src, dst, domain string
	port := ev.DstPort.V
	blocked := false
	switch {
	case ev.Source == event.SourceFirewall:
		src, dst = ev.SrcIP, ev.DstIP
		host = src
		blocked = event.Blocked(ev.Action)
		domain = first(ev.Field("hostname"), ev.Field("dstname"), ev.Field("query"))
	case ev.Source == event.SourceEVTX && ev.EventID == 3 && strings.Contains(a.lower.Get(ev.Channel), "sysmon"):
		if v := strings.ToLower(ev.Field("Initiated")); v == "false" {
			return
		}
		src, dst = firstOf(ev, ev.SrcIP, "SourceIp"), firstOf(ev, ev.DstIP, "DestinationIp")
		domain = ev.Field("DestinationHostname")
		host = ev.Host
		if port == 0 {
			port = atoi32(ev.Field("DestinationPort"))
		}
	case ev.Source == event.SourceEVTX && ev.EventID == 5156 && strings.Contains(a.lower.Get(ev.Channel), "security"):
		if d := ev.Field("Direction"); d != "" && d != "%%14593" && !strings.EqualFold(d, "outbound") {
			return
		}
		src, dst = firstOf(ev, ev.SrcIP, "SourceAddress"), firstOf(ev, ev.DstIP, "DestAddress")
		host = ev.Host
		if port == 0 {
			port = atoi32(ev.Field("DestPort"))
		}
	default:
		return
	}
	if dst == "" || !a.cfg.External(dst) || (src != "" && !a.cfg.Internal(src)) {
		return
	}
	if host == "" {
		host = src
	}
	if src != "" && host != src && len(a.ipName) < maxPairs {
		if _, ok := a.ipName[src]; !ok {
			a.ipName[a.in.Get(src)] = a.in.Get(host)
		}
	}
	host = a.in.Get(host)
	dst = a.in.Get(dst)
	if a.cfg.IOCIP(dst) && len(a.iocs) < maxIOCHits {
		a.iocs = append(a.iocs, iocHit{t: ev.Time, host: host, dst: dst, port: port, bytes: ev.BytesOut.V, blocked: blocked, ref: event.RefOf(ev)})
	}
	// The data range counts allow-listed traffic too: a destination is
	// first-seen against the period the logs cover, not against the
	// traffic that happened to be worth keeping.
	if a.first.IsZero() || ev.Time.Before(a.first) {
		a.first = ev.Time
	}
	if ev.Time.After(a.last) {
		a.last = ev.Time
	}
	if blocked || a.cfg.Allowed(dst, domain) {
		return
	}
	a.conns++
	day := int32(ev.Time.Unix() / 86400)
	d := a.dsts[dst]
	if d == nil {
		d = &dstStat{first: ev.Time, firstHost: host, firstRef: event.RefOf(ev), byDay: map[int32]int64{}}
		a.dsts[dst] = d
	} else if ev.Time.Before(d.first) {
		d.first, d.firstHost, d.firstRef = ev.Time, host, event.RefOf(ev)
	}
	d.count++
	d.bytes += ev.BytesOut.V
	d.byDay[day] += ev.BytesOut.V
	if len(d.hosts) < 8 && !slices.Contains(d.hosts, host) {
		d.hosts = append(d.hosts, host)
	}
	hd := a.hostDay[host]
	if hd == nil {
		hd = map[int32]int64{}
		a.hostDay[host] = hd
	}
	hd[day] += ev.BytesOut.V
	pk := host + "\x00" + dst
	p := a.pairs[pk]
	if p == nil && len(a.pairs) < maxPairs {
		p = &pair{host: host, dst: dst, first: event.RefOf(ev)}
		a.pairs[pk] = p
	}
	if p != nil {
		p.count++
		p.bytes += ev.BytesOut.V
		if len(p.times) < maxPairTimes {
			p.times = append(p.times, uint32(ev.Time.Unix()))
		}
		p.last = max(p.last, ev.Time.Unix())
	}
	if ev.BytesOut.V >= bulkMinFlow && !a.cfg.InBusinessHours(ev.Time) {
		hour := ev.Time.Unix() / 3600
		bk := fmt.Sprintf("%s\x00%s\x00%d", host, dst, hour)
		b := a.bulks[bk]
		if b == nil {
			b = &bulk{host: host, dst: dst, hour: hour}
			a.bulks[bk] = b
		}
		b.bytes += ev.BytesOut.V
		b.conns++
		if len(b.refs) < 20 {
			b.refs = append(b.refs, event.RefOf(ev))
		}
	}
	if port > 0 && len(a.ports) < maxPairs {
		k := portKey{host, port}
		ps := a.ports[k]
		if ps == nil {
			ps = &portStat{first: ev.Time, ref: event.RefOf(ev)}
			a.ports[k] = ps
		} else if ev.Time.Before(ps.first) {
			ps.first, ps.ref = ev.Time, event.RefOf(ev)
		}
		ps.count++
		ps.bytes += ev.BytesOut.V
		if len(ps.dsts) < 5 && !slices.Contains(ps.dsts, dst) {
			ps.dsts = append(ps.dsts, dst)
		}
	}
}

func atoi32(s string) int32 {
	n := int32(0)
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int32(c-'0')
	}
	return n
}

func mb(b int64) float64 { return math.Round(float64(b)/MB*10) / 10 }

// Finish implements analyzers.Analyzer.
func (a *Analyzer) Finish() []event.Finding {
	var out []event.Finding
	out = append(out, a.iocFindings()...)
	if a.conns > 0 {
		bf, bt, _ := akit.Baseline(a.cfg, a.first, a.last)
		isNew := func(dst string) bool {
			d := a.dsts[dst]
			return d != nil && !d.first.Before(bt) && bt.After(a.first)
		}
		out = append(out, a.newDestinations(bt, isNew)...)
		out = append(out, a.volume(bf, bt)...)
		out = append(out, a.bulkFindings(bf, bt, isNew)...)
		out = append(out, a.beacons(isNew)...)
		if bt.After(a.first) {
			out = append(out, a.serverPorts(bt)...)
		}
	}
	// Perimeter logs name hosts by address; say which host that is when
	// the host's own logs told us.
	for i := range out {
		if name, ok := a.ipName[out[i].Host]; ok {
			out[i].Details.Set("src_ip", out[i].Host)
			out[i].Host = name
		}
	}
	akit.Sort(out)
	return out
}

func (a *Analyzer) iocFindings() []event.Finding {
	type key struct{ host, dst string }
	groups := map[key][]iocHit{}
	for _, h := range a.iocs {
		groups[key{h.host, h.dst}] = append(groups[key{h.host, h.dst}], h)
	}
	var out []event.Finding
	for k, hs := range groups {
		slices.SortFunc(hs, func(x, y iocHit) int { return x.t.Compare(y.t) })
		var bytes int64
		blocked := 0
		var refs []event.Ref
		for _, h := range hs {
			bytes += h.bytes
			if h.blocked {
				blocked++
			}
			refs = append(refs, h.ref)
		}
		sev := event.SevHigh
		if blocked == len(hs) {
			sev = event.SevMedium
		} else if bytes > MB {
			sev = event.SevCritical
		}
		out = append(out, event.Finding{
			Time: hs[0].t, End: hs[len(hs)-1].t, RuleID: "outbound.ioc", Title: "Connection to an IOC address", Severity: sev,
			Tags: []string{"attack.t1071"}, Host: k.host, Analyzer: Name,
			Summary: fmt.Sprintf("%s connected to IOC %s %s (%d blocked), %.1f MB out", k.host, k.dst, akit.Plural(len(hs), "time"), blocked, mb(bytes)),
			Reason:  "destination is listed in the case's IOC addresses",
			Details: akit.Details("connections", len(hs), "blocked", blocked, "bytes_out", bytes),
			Refs:    akit.CapRefs(akit.SortRefs(refs), akit.MaxRefs),
		})
	}
	return out
}

// newDestinations reports, per host and day, the external destinations
// first contacted after the baseline: informational context for the
// other findings, not an alarm on its own.
func (a *Analyzer) newDestinations(bt time.Time, isNew func(string) bool) []event.Finding {
	type key struct {
		host string
		day  int32
	}
	groups := map[key][]string{}
	for dst, d := range a.dsts {
		if isNew(dst) {
			k := key{d.firstHost, int32(d.first.Unix() / 86400)}
			groups[k] = append(groups[k], dst)
		}
	}
	known := 0
	for _, d := range a.dsts {
		if d.first.Before(bt) {
			known++
		}
	}
	var out []event.Finding
	for k, ds := range groups {
		slices.SortFunc(ds, func(x, y string) int {
			if c := a.dsts[y].bytes - a.dsts[x].bytes; c != 0 {
				if c > 0 {
					return 1
				}
				return -1
			}
			return strings.Compare(x, y)
		})
		var total int64
		var refs []event.Ref
		var list []string
		t0 := a.dsts[ds[0]].first
		for i, dst := range ds {
			d := a.dsts[dst]
			total += d.bytes
			refs = append(refs, d.firstRef)
			if d.first.Before(t0) {
				t0 = d.first
			}
			if i < 5 {
				list = append(list, fmt.Sprintf("%s (%d conns, %.1f MB out)", dst, d.count, mb(d.bytes)))
			}
		}
		sev := event.SevInfo
		if total >= 10*MB {
			sev = event.SevLow
		}
		out = append(out, event.Finding{
			Time: t0, End: t0, RuleID: "outbound.first_seen", Title: "First-seen external destinations", Severity: sev, Tags: []string{"attack.t1071"},
			Host: k.host, Analyzer: Name,
			Summary: fmt.Sprintf("%s contacted %s first seen after the baseline: %s", k.host, akit.Plural(len(ds), "external destination"), strings.Join(list, ", ")),
			Reason:  fmt.Sprintf("not contacted by any host in the baseline (to %s; %d destinations known)", a.cfg.Local(bt).Format("2006-01-02"), known),
			Details: akit.Details("new_destinations", len(ds), "bytes_out", total, "baseline_destinations", known),
			Refs:    akit.CapRefs(akit.SortRefs(refs), akit.MaxRefs),
		})
	}
	return out
}

func (a *Analyzer) volume(bf, bt time.Time) []event.Finding {
	var out []event.Finding
	b0, b1 := int32(bf.Unix()/86400), int32((bt.Unix()-1)/86400)
	for host, days := range a.hostDay {
		var base []float64
		for d := b0; d <= b1; d++ {
			base = append(base, float64(days[d])) // quiet days count as 0
		}
		if len(base) < 5 {
			continue
		}
		med, mad := akit.MedianMAD(base)
		scale := math.Max(1.4826*mad, math.Max(MB, 0.1*med))
		for d, x := range days {
			if d <= b1 || float64(x) < VolumeMinBytes {
				continue
			}
			z := (float64(x) - med) / scale
			if z < VolumeZ || float64(x) < 5*med {
				continue
			}
			t := time.Unix(int64(d)*86400, 0).UTC()
			sev := event.SevMedium
			if z >= 3*VolumeZ {
				sev = event.SevHigh
			}
			out = append(out, event.Finding{
				Time: t, End: t.Add(24*time.Hour - time.Second), RuleID: "outbound.volume", Title: "Outbound volume far above the host's baseline", Severity: sev,
				Tags: []string{"attack.t1048", "attack.t1041"}, Host: host, Analyzer: Name,
				Summary: fmt.Sprintf("%s sent %.1f MB to external destinations on %s (UTC day)", host, mb(x), t.Format("2006-01-02")),
				Reason:  fmt.Sprintf("baseline median %.1f MB/day, MAD %.1f MB over %d days; robust z %.1f (threshold %.0f)", med/MB, mad/MB, len(base), z, VolumeZ),
				Details: akit.Details("bytes_out", x, "baseline_median", med, "baseline_mad", mad, "baseline_days", len(base), "robust_z", math.Round(z*10)/10),
			})
		}
	}
	return out
}

func (a *Analyzer) bulkFindings(bf, bt time.Time, isNew func(string) bool) []event.Finding {
	var out []event.Finding
	for _, b := range a.bulks {
		if b.bytes < BulkBytes {
			continue
		}
		t := time.Unix(b.hour*3600, 0).UTC()
		if !t.Before(bf) && t.Before(bt) {
			continue // the baseline itself is the yardstick, not a finding
		}
		d := a.dsts[b.dst]
		var baseBytes int64
		for day, v := range d.byDay {
			dt := time.Unix(int64(day)*86400, 0)
			if !dt.Before(bf) && dt.Before(bt) {
				baseBytes += v
			}
		}
		sev := event.SevHigh
		why := fmt.Sprintf("%.1f MB in one off-hours hour (threshold %.0f MB)", mb(b.bytes), float64(BulkBytes)/MB)
		if isNew(b.dst) {
			why += "; destination first seen after the baseline"
		} else if baseBytes >= b.bytes/2 {
			sev = event.SevInfo
			why += fmt.Sprintf("; destination received %.1f MB in the baseline: a known bulk target", mb(baseBytes))
		} else {
			sev = event.SevMedium
			why += fmt.Sprintf("; destination known from the baseline with %.1f MB", mb(baseBytes))
		}
		out = append(out, event.Finding{
			Time: t, End: t.Add(time.Hour - time.Second), RuleID: "outbound.offhours_bulk", Title: "Off-hours bulk transfer", Severity: sev,
			Tags: []string{"attack.t1048", "attack.t1041"}, Host: b.host, Analyzer: Name,
			Summary: fmt.Sprintf("%s sent %.1f MB to %s in %s starting %s", b.host, mb(b.bytes), b.dst, akit.Plural(b.conns, "connection"), akit.When(a.cfg, t)),
			Reason:  why,
			Details: akit.Details("bytes_out", b.bytes, "connections", b.conns, "baseline_bytes_to_destination", baseBytes, "first_seen_destination", akit.B2I(isNew(b.dst))),
			Refs:    akit.SortRefs(b.refs),
		})
	}
	return out
}

func (a *Analyzer) beacons(isNew func(string) bool) []event.Finding {
	var out []event.Finding
	for _, p := range a.pairs {
		if len(p.times) < BeaconMin {
			continue
		}
		ts := make([]int64, len(p.times))
		for i, x := range p.times {
			ts[i] = int64(x)
		}
		slices.Sort(ts)
		var iv []float64
		for i := 1; i < len(ts); i++ {
			iv = append(iv, float64(ts[i]-ts[i-1]))
		}
		med, mad := akit.MedianMAD(iv)
		if med < 30 || med > BeaconMaxInterval || float64(ts[len(ts)-1]-ts[0]) < 3600 || mad/med > BeaconJitter {
			continue
		}
		// A steady beat to an address nobody used before is an implant's
		// check-in; to a known service it is an update or sync client.
		sev := event.SevLow
		if isNew(p.dst) {
			sev = event.SevHigh
		}
		t0, t1 := time.Unix(ts[0], 0).UTC(), time.Unix(max(p.last, ts[len(ts)-1]), 0).UTC()
		out = append(out, event.Finding{
			Time: t0, End: t1, RuleID: "outbound.beacon", Title: "Regular outbound connections (beaconing)", Severity: sev,
			Tags: []string{"attack.t1071", "attack.t1573"}, Host: p.host, Analyzer: Name,
			Summary: fmt.Sprintf("%s connected to %s %s every %.0f s", p.host, p.dst, akit.Plural(p.count, "time"), med),
			Reason:  fmt.Sprintf("interval median %.0f s, MAD %.1f s (jitter %.3f, threshold %.2f) over %d intervals; destination first seen after the baseline: %v", med, mad, mad/med, BeaconJitter, len(iv), isNew(p.dst)),
			Details: akit.Details("connections", p.count, "interval_median_s", med, "interval_mad_s", mad, "jitter", math.Round(mad/med*1000)/1000, "bytes_out", p.bytes),
			Refs:    []event.Ref{p.first},
		})
	}
	return out
}

func (a *Analyzer) serverPorts(bt time.Time) []event.Finding {
	common := map[int32]bool{80: true, 443: true, 53: true, 123: true}
	seen := map[portKey]bool{}
	for k, ps := range a.ports {
		if ps.first.Before(bt) {
			seen[k] = true
		}
	}
	var out []event.Finding
	for k, ps := range a.ports {
		if seen[k] || common[k.port] || !(a.cfg.IsServer(k.host) || a.cfg.IsServer(a.ipName[k.host])) {
			continue
		}
		known := 0
		for k2 := range seen {
			if k2.host == k.host {
				known++
			}
		}
		sev := event.SevLow
		if ps.bytes >= 10*MB {
			sev = event.SevMedium
		}
		out = append(out, event.Finding{
			Time: ps.first, End: ps.first, RuleID: "outbound.server_port", Title: fmt.Sprintf("Server used an unusual outbound port %d", k.port), Severity: sev,
			Tags: []string{"attack.t1571"}, Host: k.host, Analyzer: Name,
			Summary: fmt.Sprintf("server %s connected out on port %d %s (%.1f MB) to %s", k.host, k.port, akit.Plural(ps.count, "time"), mb(ps.bytes), strings.Join(ps.dsts, ", ")),
			Reason:  fmt.Sprintf("port not used by this server in the baseline (%d ports known)", known),
			Details: akit.Details("port", k.port, "connections", ps.count, "bytes_out", ps.bytes, "baseline_ports", known),
			Refs:    []event.Ref{ps.ref},
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// Wants implements analyzers.Selective: firewall connections and the
// Sysmon 3 and Security 5156 connection events, with every column.
func (a *Analyzer) Wants() akit.Wants {
	return akit.Wants{
		{Source: event.SourceFirewall},
		{Source: event.SourceEVTX, ChannelHas: "sysmon", IDs: []int32{3}},
		{Source: event.SourceEVTX, ChannelHas: "security", IDs: []int32{5156}},
	}
}

// first and firstOf read values the Windows way (trimmed, "-" is none).
var (
	first   = akit.FirstValue
	firstOf = akit.ValueOr
)
