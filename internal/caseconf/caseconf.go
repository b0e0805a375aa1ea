// Package caseconf reads case.yaml: the one file that describes a case
// (time zone, business hours, holidays, analysis window, providers,
// networks, allow-lists, IOCs, privileged groups, per-source time zones).
// Everything has a default, so a run without a case file works.
package caseconf

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/wallclock"
	"github.com/spoor-dfir/spoor/internal/yamlx"
)

// Config is a case. Load it with Load or Parse, which apply defaults and
// validate; the zero value is not usable (use Default()).
type Config struct {
	Name          string        `yaml:"name"`
	Timezone      string        `yaml:"timezone"`
	BusinessHours BusinessHours `yaml:"business_hours"`
	Holidays      []string      `yaml:"holidays"` // YYYY-MM-DD, case zone
	Window        Window        `yaml:"window"`   // analysis window; empty = everything
	// Baseline is the period patterns are learned from (first-seen
	// destinations, usual hours). Empty: analyzers choose (e.g. all but the
	// last 14 days of the window).
	Baseline         Window            `yaml:"baseline"`
	Providers        []Provider        `yaml:"providers"`
	InternalNetworks []string          `yaml:"internal_networks"`
	Servers          []string          `yaml:"servers"` // host name patterns of servers (glob)
	Allowlist        Allowlist         `yaml:"allowlist"`
	IOCs             IOCs              `yaml:"iocs"`
	PrivilegedGroups []string          `yaml:"privileged_groups"`
	SourceTimezones  map[string]string `yaml:"source_timezones"` // format or source name → IANA zone
	// Hosts names machines whose logs call them differently (an old name,
	// an IP, a firewall's own label) and text logs whose evidence path does
	// not name their host.
	Hosts []Host `yaml:"hosts"`

	loc      *time.Location
	holidays map[string]bool
	internal []netip.Prefix
	srcLoc   map[string]*time.Location
	startMin int
	endMin   int
	days     [7]bool
	// matches remembers provider lookups by account and operator name:
	// hunts ask about the same few names millions of times, and each
	// answer is a walk of glob patterns.
	matches atomic.Pointer[matchCache]
	// File is where the config came from ("" for defaults).
	File string `yaml:"-"`
	raw  []byte // the file's content, for positions in later checks
}

// BusinessHours are the office hours in the case zone.
type BusinessHours struct {
	Days  []string `yaml:"days"`  // mon … sun
	Start string   `yaml:"start"` // HH:MM
	End   string   `yaml:"end"`   // HH:MM
}

// Window is a time range; either end may be empty (open).
type Window struct {
	From string `yaml:"from"` // RFC 3339 or YYYY-MM-DD (case zone)
	To   string `yaml:"to"`

	from, to time.Time
}

// Provider is an external party with access: an MSP.
type Provider struct {
	Name      string   `yaml:"name"`
	Accounts  []string `yaml:"accounts"`  // glob patterns, case-insensitive: "msp-*", "MSP\\*", "*@msp.example"
	Networks  []string `yaml:"networks"`  // CIDRs: VPN subnet, provider's public IPs
	RMMTools  []string `yaml:"rmm_tools"` // screenconnect, anydesk, teamviewer, …
	Operators []string `yaml:"operators"` // RMM operator names (glob)

	nets []netip.Prefix
}

// Host is one machine under one name.
type Host struct {
	Name     string   `yaml:"name"`     // the name every command shows
	Aliases  []string `yaml:"aliases"`  // other names or addresses of it, case-insensitive
	Evidence []string `yaml:"evidence"` // evidence path globs whose events have no host of their own
}

// Allowlist names outbound destinations that are expected.
type Allowlist struct {
	Networks []string `yaml:"networks"` // CIDRs or single IPs
	Domains  []string `yaml:"domains"`  // glob patterns

	nets []netip.Prefix
}

// IOCs are indicators given to the case.
type IOCs struct {
	IPs     []string `yaml:"ips"`
	Domains []string `yaml:"domains"`
	Hashes  []string `yaml:"hashes"`
}

// DefaultPrivilegedGroups are the groups whose new members matter.
var DefaultPrivilegedGroups = []string{
	"Administrators", "Domain Admins", "Enterprise Admins", "Schema Admins",
	"Account Operators", "Backup Operators", "Server Operators", "Print Operators",
	"DnsAdmins", "Group Policy Creator Owners", "Remote Desktop Users",
	"Remote Management Users", "Hyper-V Administrators", "Administratoren", "Domänen-Admins",
	"Organisations-Admins", "Schema-Admins",
}

// Default returns the configuration used without a case file: UTC,
// Monday–Friday 08:00–18:00, RFC 1918 internal networks.
func Default() *Config {
	c := &Config{}
	if err := c.finish(); err != nil {
		panic(err) // defaults are valid by construction
	}
	return c
}

// Load reads and validates a case file.
func Load(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return Parse(file, data)
}

// Parse decodes a case file's content; file names the source in errors.
func Parse(file string, data []byte) (*Config, error) {
	c := &Config{}
	if err := yamlx.Unmarshal(file, data, c); err != nil {
		return nil, err
	}
	c.File = file
	c.raw = data
	if err := c.finish(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

func (c *Config) finish() error {
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return fmt.Errorf("timezone %q: %v", c.Timezone, err)
	}
	c.loc = loc
	if len(c.BusinessHours.Days) == 0 {
		c.BusinessHours.Days = []string{"mon", "tue", "wed", "thu", "fri"}
	}
	if c.BusinessHours.Start == "" {
		c.BusinessHours.Start = "08:00"
	}
	if c.BusinessHours.End == "" {
		c.BusinessHours.End = "18:00"
	}
	c.days = [7]bool{}
	for _, d := range c.BusinessHours.Days {
		wd, ok := dayNames[strings.ToLower(d)[:min(3, len(d))]]
		if !ok {
			return fmt.Errorf("business_hours.days: unknown day %q", d)
		}
		c.days[wd] = true
	}
	if c.startMin, err = hhmm(c.BusinessHours.Start); err != nil {
		return fmt.Errorf("business_hours.start: %v", err)
	}
	if c.endMin, err = hhmm(c.BusinessHours.End); err != nil {
		return fmt.Errorf("business_hours.end: %v", err)
	}
	c.holidays = map[string]bool{}
	for _, h := range c.Holidays {
		if _, err := time.Parse("2006-01-02", h); err != nil {
			return fmt.Errorf("holidays: %q is not YYYY-MM-DD", h)
		}
		c.holidays[h] = true
	}
	for _, w := range []*Window{&c.Window, &c.Baseline} {
		if w.from, err = c.parseTime(w.From, false); err != nil {
			return err
		}
		if w.to, err = c.parseTime(w.To, true); err != nil {
			return err
		}
	}
	if len(c.InternalNetworks) == 0 {
		c.InternalNetworks = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "fc00::/7", "fe80::/10", "::1/128"}
	}
	if c.internal, err = prefixes("internal_networks", c.InternalNetworks); err != nil {
		return err
	}
	if c.Allowlist.nets, err = prefixes("allowlist.networks", c.Allowlist.Networks); err != nil {
		return err
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		if p.Name == "" {
			p.Name = fmt.Sprintf("provider-%d", i+1)
		}
		if p.nets, err = prefixes("providers["+p.Name+"].networks", p.Networks); err != nil {
			return err
		}
	}
	for i, h := range c.Hosts {
		if strings.TrimSpace(h.Name) == "" {
			return fmt.Errorf("hosts[%d]: name is empty", i)
		}
	}
	if len(c.PrivilegedGroups) == 0 {
		c.PrivilegedGroups = DefaultPrivilegedGroups
	}
	c.srcLoc = map[string]*time.Location{}
	for k, v := range c.SourceTimezones {
		l, err := time.LoadLocation(v)
		if err != nil {
			return fmt.Errorf("source_timezones.%s: %v", k, err)
		}
		c.srcLoc[strings.ToLower(k)] = l
	}
	return nil
}

func hhmm(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (c *Config) parseTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	d, err := time.Parse("2006-01-02", s) // the day's wall clock, placed below
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339 or YYYY-MM-DD", s)
	}
	if end { // a date as the end means the whole day
		d = d.AddDate(0, 0, 1)
	}
	t, _ := wallclock.Resolve(d, c.loc, time.Time{}) // midnight may fall in a DST change
	return t, nil
}

func prefixes(what string, in []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(in))
	for _, s := range in {
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", what, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePrefix parses a CIDR or a single address (as /32 or /128).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Location is the case time zone.
func (c *Config) Location() *time.Location { return c.loc }

// Local converts t to the case zone.
func (c *Config) Local(t time.Time) time.Time { return t.In(c.loc) }

// Weekend reports whether t falls on a day that is not a business day.
func (c *Config) Weekend(t time.Time) bool { return !c.days[t.In(c.loc).Weekday()] }

// Holiday reports whether t's date (case zone) is a listed holiday.
func (c *Config) Holiday(t time.Time) bool {
	return c.holidays[t.In(c.loc).Format("2006-01-02")]
}

// BusinessHours reports whether t is inside business hours on a business
// day that is not a holiday, in the case zone (DST-correct: the wall clock
// is what counts).
func (c *Config) InBusinessHours(t time.Time) bool {
	lt := t.In(c.loc)
	if !c.days[lt.Weekday()] || c.Holiday(t) {
		return false
	}
	m := lt.Hour()*60 + lt.Minute()
	return m >= c.startMin && m < c.endMin
}

// Bounds returns the window's ends (zero when open).
func (w Window) Bounds() (from, to time.Time) { return w.from, w.to }

// Contains reports whether t lies in [from, to).
func (w Window) Contains(t time.Time) bool {
	if !w.from.IsZero() && t.Before(w.from) {
		return false
	}
	if !w.to.IsZero() && !t.Before(w.to) {
		return false
	}
	return true
}

// Provider returns the provider whose account patterns match user
// (DOMAIN\name, name@domain or name; case-insensitive).
func (c *Config) Provider(user string) (*Provider, bool) {
	if user == "" {
		return nil, false
	}
	return c.cached(false, user, c.provider)
}

func (c *Config) provider(user string) (*Provider, bool) {
	u := strings.ToLower(user)
	bare := u
	if i := strings.LastIndexByte(bare, '\\'); i >= 0 {
		bare = bare[i+1:]
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		for _, pat := range p.Accounts {
			pat = strings.ToLower(pat)
			if Glob(pat, u) || Glob(pat, bare) {
				return p, true
			}
		}
	}
	return nil, false
}

// ProviderOperator returns the provider an RMM operator name belongs to.
func (c *Config) ProviderOperator(op string) (*Provider, bool) {
	if op == "" {
		return nil, false
	}
	return c.cached(true, op, c.providerOperator)
}

func (c *Config) providerOperator(op string) (*Provider, bool) {
	o := strings.ToLower(op)
	for i := range c.Providers {
		p := &c.Providers[i]
		for _, pat := range p.Operators {
			if Glob(strings.ToLower(pat), o) {
				return p, true
			}
		}
	}
	return c.Provider(op)
}

// ProviderIP returns the provider whose networks contain ip.
func (c *Config) ProviderIP(ip string) (*Provider, bool) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, false
	}
	a = a.Unmap()
	for i := range c.Providers {
		for _, n := range c.Providers[i].nets {
			if n.Contains(a) {
				return &c.Providers[i], true
			}
		}
	}
	return nil, false
}

// Internal reports whether ip is in the internal networks.
func (c *Config) Internal(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, n := range c.internal {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// External reports whether ip parses and is not internal.
func (c *Config) External(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.IsUnspecified() || a.IsMulticast() {
		return false
	}
	return !c.Internal(ip)
}

// Allowed reports whether an outbound destination (IP and/or domain) is on
// the allow-list.
func (c *Config) Allowed(ip, domain string) bool {
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		for _, n := range c.Allowlist.nets {
			if n.Contains(a) {
				return true
			}
		}
	}
	if domain != "" {
		d := strings.ToLower(domain)
		for _, pat := range c.Allowlist.Domains {
			if Glob(strings.ToLower(pat), d) {
				return true
			}
		}
	}
	return false
}

// IOCIP reports whether ip is an indicator.
func (c *Config) IOCIP(ip string) bool {
	for _, s := range c.IOCs.IPs {
		if p, err := ParsePrefix(s); err == nil {
			if a, err := netip.ParseAddr(ip); err == nil && p.Contains(a.Unmap()) {
				return true
			}
		}
	}
	return false
}

// Privileged reports whether group (name, DOMAIN\name or SID S-1-5-32-544
// style) is privileged.
func (c *Config) Privileged(group string) bool {
	g := strings.ToLower(group)
	if i := strings.LastIndexByte(g, '\\'); i >= 0 {
		g = g[i+1:]
	}
	for _, p := range c.PrivilegedGroups {
		if strings.ToLower(p) == g {
			return true
		}
	}
	switch {
	case g == "s-1-5-32-544", g == "s-1-5-32-548", g == "s-1-5-32-549", g == "s-1-5-32-551", g == "s-1-5-32-550", g == "s-1-5-32-555":
		return true
	case strings.HasPrefix(g, "s-1-5-21-") && (strings.HasSuffix(g, "-512") || strings.HasSuffix(g, "-518") || strings.HasSuffix(g, "-519")):
		return true
	}
	return false
}

// IsServer reports whether host matches the servers patterns.
func (c *Config) IsServer(host string) bool {
	h := strings.ToLower(host)
	for _, p := range c.Servers {
		if Glob(strings.ToLower(p), h) {
			return true
		}
	}
	return false
}

// SourceLocation is the zone for a zone-less source, looked up by format
// name first (anydesk-trace), then by its family (anydesk), then by source
// (evtx|firewall|rmm); UTC if unset.
func (c *Config) SourceLocation(format, source string) *time.Location {
	if l, ok := c.srcLoc[strings.ToLower(format)]; ok {
		return l
	}
	if l, ok := c.srcLoc[Family(format)]; ok {
		return l
	}
	if l, ok := c.srcLoc[strings.ToLower(source)]; ok {
		return l
	}
	return time.UTC
}

// Family is a format's family name: what comes before the first '-'
// (anydesk-trace and anydesk-connection-trace are both anydesk).
func Family(format string) string {
	f := strings.ToLower(format)
	if i := strings.IndexByte(f, '-'); i > 0 {
		f = f[:i]
	}
	return f
}

// CheckSourceTimezones reports every source_timezones key that valid
// rejects, at its file:line:col like every other key of the case file:
// a misspelt format would otherwise leave its logs silently in UTC.
func (c *Config) CheckSourceTimezones(valid func(key string) bool, want string) error {
	var bad []string
	for k := range c.SourceTimezones {
		if !valid(strings.ToLower(k)) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	nodes := map[string]*yaml.Node{}
	if doc, err := yamlx.Parse(c.File, c.raw); err == nil && len(doc.Content) > 0 {
		top := doc.Content[0]
		for i := 0; i+1 < len(top.Content); i += 2 {
			if top.Content[i].Value == "source_timezones" {
				m := top.Content[i+1]
				for j := 0; j+1 < len(m.Content); j += 2 {
					nodes[m.Content[j].Value] = m.Content[j]
				}
			}
		}
	}
	var errs []error
	for _, k := range bad {
		errs = append(errs, yamlx.Errorf(c.File, nodes[k], "source_timezones: unknown format or source %q (want %s)", k, want))
	}
	return errors.Join(errs...)
}

// Glob matches a shell-style pattern (* ? [..]); a bad pattern matches
// only itself literally.
func Glob(pattern, s string) bool {
	// path.Match treats '\\' as an escape; in account patterns it is the
	// DOMAIN\\user separator and must match itself.
	pattern = strings.ReplaceAll(pattern, `\`, `\\`)
	ok, err := path.Match(pattern, s)
	if err != nil {
		return pattern == s
	}
	if ok {
		return true
	}
	// path.Match's * does not cross '/'; account names may contain it.
	if strings.Contains(s, "/") {
		ok, _ = path.Match(pattern, strings.ReplaceAll(s, "/", "\x00"))
	}
	return ok
}

// matchCache holds answers of Provider and ProviderOperator (a provider
// index, -1 for none), valid for the providers it was filled against: a
// config whose providers change (tests build them by hand) starts afresh.
type matchCache struct {
	mu        sync.RWMutex
	providers *Provider // &Providers[0] when filled
	n         int       // len(Providers) when filled
	users     map[string]int
	ops       map[string]int
}

// maxCached bounds each map of the cache; past it, it starts afresh.
const maxCached = 1 << 16

func (c *Config) cached(op bool, name string, slow func(string) (*Provider, bool)) (*Provider, bool) {
	var first *Provider
	if len(c.Providers) > 0 {
		first = &c.Providers[0]
	}
	m := c.matches.Load()
	if m == nil {
		c.matches.CompareAndSwap(nil, &matchCache{})
		m = c.matches.Load()
	}
	m.mu.RLock()
	valid := m.providers == first && m.n == len(c.Providers) && m.users != nil
	var i int
	var ok bool
	if valid {
		if op {
			i, ok = m.ops[name]
		} else {
			i, ok = m.users[name]
		}
	}
	m.mu.RUnlock()
	if ok {
		if i < 0 {
			return nil, false
		}
		return &c.Providers[i], true
	}
	p, found := slow(name)
	i = -1
	if found {
		for j := range c.Providers {
			if &c.Providers[j] == p {
				i = j
			}
		}
	}
	m.mu.Lock()
	if m.providers != first || m.n != len(c.Providers) || m.users == nil || len(m.users) >= maxCached || len(m.ops) >= maxCached {
		m.providers, m.n = first, len(c.Providers)
		m.users, m.ops = map[string]int{}, map[string]int{}
	}
	if op {
		m.ops[strings.Clone(name)] = i
	} else {
		m.users[strings.Clone(name)] = i
	}
	m.mu.Unlock()
	return p, found
}
