// Package summary computes the investigator's overview tables from the
// store: event counts per event id, channel, host and evidence file with
// the time range each covers (spoor metrics), and the logon summary by
// account, host, logon type and source address (spoor logons). Both read
// only the columns they need, so they stay cheap on large stores.
package summary

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spoor-dfir/spoor/internal/caseconf"
	"github.com/spoor-dfir/spoor/internal/event"
	"github.com/spoor-dfir/spoor/internal/store"
)

// Count is one row of a metrics table: a key, how many events have it,
// and the time range they cover.
type Count struct {
	Key         []string
	Events      int64
	First, Last time.Time
}

func (c *Count) add(t time.Time) {
	c.Events++
	if c.First.IsZero() || t.Before(c.First) {
		c.First = t
	}
	if t.After(c.Last) {
		c.Last = t
	}
}

// Metrics are the store's event counts by four keys.
type Metrics struct {
	Total      int64
	First      time.Time
	Last       time.Time
	ByEventID  []Count // key: source, channel (or format), provider, event id
	ByChannel  []Count // key: source, channel (or format)
	ByHost     []Count // key: host ("" when the event names none)
	ByEvidence []Count // key: evidence file, source, format
}

// MetricsHeaders are the key column names of each table.
var MetricsHeaders = map[string][]string{
	"eid":      {"source", "channel", "provider", "event_id"},
	"channel":  {"source", "channel"},
	"host":     {"host"},
	"evidence": {"evidence", "source", "format"},
}

// stream is the channel of an EVTX event, or the format of any other
// source (a firewall or RMM log has no channel, but its format is its
// stream).
func stream(ev *event.Event) string {
	if ev.Channel != "" {
		return ev.Channel
	}
	return ev.Format
}

// Progress is told after each part file of a scan how many of how many
// are done; nil is allowed.
type Progress func(done, total int)

// CollectMetrics counts every stored event.
func CollectMetrics(ctx context.Context, st *store.Store, progress Progress) (*Metrics, error) {
	type table map[string]*Count
	eids, chans, hosts, evid := table{}, table{}, table{}, table{}
	bump := func(t table, t0 time.Time, key ...string) {
		k := strings.Join(key, "\x00")
		c := t[k]
		if c == nil {
			c = &Count{Key: key}
			t[k] = c
		}
		c.add(t0)
	}
	m := &Metrics{}
	want := store.Want{Cols: 1<<store.ColFormat | 1<<store.ColChannel | 1<<store.ColProvider}
	sel := func(*store.RowKey) store.Want { return want }
	_, err := st.ScanSelectProgress(ctx, store.ScanOptions{}, sel, func(ev *event.Event) error {
		m.Total++
		if m.First.IsZero() || ev.Time.Before(m.First) {
			m.First = ev.Time
		}
		if ev.Time.After(m.Last) {
			m.Last = ev.Time
		}
		s := stream(ev)
		id := ""
		if ev.EventID != 0 {
			id = strconv.Itoa(int(ev.EventID))
		}
		bump(eids, ev.Time, ev.Source, s, ev.Provider, id)
		bump(chans, ev.Time, ev.Source, s)
		bump(hosts, ev.Time, ev.Host)
		bump(evid, ev.Time, ev.Evidence, ev.Source, ev.Format)
		return nil
	}, progress)
	if err != nil {
		return nil, err
	}
	m.ByEventID, m.ByChannel, m.ByHost, m.ByEvidence = sorted(eids), sorted(chans), sorted(hosts), sorted(evid)
	return m, nil
}

// sorted orders a table by count, largest first, then by key, so the
// output is the same on every run.
func sorted[T ~map[string]*Count](t T) []Count {
	out := make([]Count, 0, len(t))
	for _, c := range t {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Events != out[j].Events {
			return out[i].Events > out[j].Events
		}
		return strings.Join(out[i].Key, "\x00") < strings.Join(out[j].Key, "\x00")
	})
	return out
}

// Logon is one row of the logon summary: the successes and failures of
// one account on one host with one logon type from one source address.
type Logon struct {
	Account   string // DOMAIN\name, or name
	SID       string
	Host      string
	LogonType int32
	Source    string // source address ("" for local logons)
	Success   int64
	Failure   int64
	First     time.Time
	Last      time.Time
	// Provider names the case's provider when the account or the source
	// address is one of its identities.
	Provider string
}

// Security-log logon events the summary reads: 4624 is a successful logon,
// 4625 a failed one (both carry the target account, logon type and source
// address).
const (
	evLogon       = 4624
	evLogonFailed = 4625
)

// systemSIDs are the built-in identities Windows logs thousands of
// service logons for (SYSTEM, LOCAL SERVICE, NETWORK SERVICE, ANONYMOUS
// LOGON, and the per-session Window Manager and font-driver accounts);
// LogonOptions.System keeps them.
func systemSID(sid string) bool {
	switch sid {
	case "S-1-5-18", "S-1-5-19", "S-1-5-20", "S-1-5-7":
		return true
	}
	return strings.HasPrefix(sid, "S-1-5-90-") || strings.HasPrefix(sid, "S-1-5-96-")
}

// LogonOptions narrows the logon summary.
type LogonOptions struct {
	System   bool // keep the built-in service identities (see systemSID)
	Failures bool // only rows with at least one failure
}

// Logons builds the logon summary, ordered by account, host, logon type
// and source address.
func Logons(ctx context.Context, st *store.Store, cfg *caseconf.Config, opts LogonOptions, progress Progress) ([]Logon, error) {
	rows := map[string]*Logon{}
	sel := func(k *store.RowKey) store.Want {
		if k.Source != event.SourceEVTX || (k.EventID != evLogon && k.EventID != evLogonFailed) || !strings.EqualFold(k.Channel, "Security") {
			return store.Want{}
		}
		return store.Want{Cols: 1<<store.ColUser | 1<<store.ColUserDomain | 1<<store.ColUserSID | 1<<store.ColLogonType | 1<<store.ColSrcIP | 1<<store.ColChannel}
	}
	_, err := st.ScanSelectProgress(ctx, store.ScanOptions{Sources: []string{event.SourceEVTX}}, sel, func(ev *event.Event) error {
		if !opts.System && systemSID(ev.UserSID) {
			return nil
		}
		acct := ev.User
		if ev.UserDomain != "" && ev.UserDomain != "-" {
			acct = ev.UserDomain + `\` + ev.User
		}
		src := ev.SrcIP
		if src == "-" { // Windows writes "-" for "no address"
			src = ""
		}
		key := strings.ToLower(acct) + "\x00" + strings.ToLower(ev.Host) + "\x00" + strconv.Itoa(int(ev.LogonType.V)) + "\x00" + src
		r := rows[key]
		if r == nil {
			r = &Logon{Account: acct, SID: ev.UserSID, Host: ev.Host, LogonType: ev.LogonType.V, Source: src}
			if p, ok := cfg.Provider(acct); ok {
				r.Provider = p.Name
			} else if p, ok := cfg.ProviderIP(src); ok && src != "" {
				r.Provider = p.Name
			}
			rows[key] = r
		}
		if ev.EventID == evLogon {
			r.Success++
		} else {
			r.Failure++
		}
		if r.First.IsZero() || ev.Time.Before(r.First) {
			r.First = ev.Time
		}
		if ev.Time.After(r.Last) {
			r.Last = ev.Time
		}
		return nil
	}, progress)
	if err != nil {
		return nil, err
	}
	out := make([]Logon, 0, len(rows))
	for _, r := range rows {
		if opts.Failures && r.Failure == 0 {
			continue
		}
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if x, y := strings.ToLower(a.Account), strings.ToLower(b.Account); x != y {
			return x < y
		}
		if x, y := strings.ToLower(a.Host), strings.ToLower(b.Host); x != y {
			return x < y
		}
		if a.LogonType != b.LogonType {
			return a.LogonType < b.LogonType
		}
		return a.Source < b.Source
	})
	return out, nil
}

// LogonTypeName is the name Windows documents for a logon type.
func LogonTypeName(t int32) string {
	switch t {
	case 2:
		return "interactive"
	case 3:
		return "network"
	case 4:
		return "batch"
	case 5:
		return "service"
	case 7:
		return "unlock"
	case 8:
		return "network-cleartext"
	case 9:
		return "new-credentials"
	case 10:
		return "remote-interactive"
	case 11:
		return "cached-interactive"
	case 12:
		return "cached-remote-interactive"
	case 13:
		return "cached-unlock"
	}
	return ""
}
