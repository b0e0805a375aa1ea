package simulate

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// The company of the brief: a medical-device maker in Freiburg whose IT is
// run by the MSP "ComTech IT". Everything here is fixed or drawn from the
// seeded generator, never from the wall clock or map order.
const (
	companyName = "Breisgau MedTec GmbH"
	domainNB    = "CORP"
	domainDNS   = "corp.breisgau-medtec.de"
	zoneName    = "Europe/Berlin"
	providerNm  = "ComTech IT"
	// scInstance is the ScreenConnect client instance id: it names the
	// Application-log provider and the service.
	scInstance = "6f1a3c9e2b7d4085"
	scVersion  = "23.9.8.8811"
	vpnPrefix  = "10.250.0."
	wanIP      = "198.51.100.10"
	relayIP    = "192.0.2.120" // ComTech's hosted ScreenConnect relay
	backupIP   = "192.0.2.50"  // backup cloud
	erpVendor  = "192.0.2.80"  // ERP vendor's AnyDesk relay side
)

// scProvider is the Application-log provider (and service name) of the
// ScreenConnect client.
var scProvider = "ScreenConnect Client (" + scInstance + ")"

// scServiceExe is the ScreenConnect client service: the parent of every
// process an RMM command starts.
var scServiceExe = `C:\Program Files (x86)\ScreenConnect Client (` + scInstance + `)\ScreenConnect.ClientService.exe`

type role int

const (
	roleDC role = iota
	roleFile
	roleERP
	roleBackup
	roleClient
)

// host is one Windows machine of the company.
type host struct {
	name     string
	ip       string
	role     role
	user     *account // primary user (clients)
	anydesk  bool
	tvHost   bool // TeamViewer installed
	scPID    uint32
	lsassPID uint32
	sysmPID  uint32
	svcPID   uint32
	nextPID  uint32
	logonSeq uint64
	fwPort   int
}

func (h *host) server() bool { return h.role != roleClient }

func (h *host) fqdn() string { return h.name + "." + domainDNS }

// pid returns a fresh process id (multiples of 4, as Windows hands out).
func (h *host) pid(r *rand.Rand) uint32 {
	h.nextPID += 4 * uint32(1+r.IntN(60))
	if h.nextPID > 60000 {
		h.nextPID = 1000 + 4*uint32(r.IntN(100))
	}
	return h.nextPID
}

// logonID returns a fresh logon id (hex like 0x3E7A21).
func (h *host) logonID(r *rand.Rand) string {
	h.logonSeq += uint64(1 + r.IntN(5000))
	return fmt.Sprintf("0x%X", h.logonSeq)
}

// ephemeral returns a client port for an outbound connection.
func (h *host) ephemeral(r *rand.Rand) int {
	h.fwPort += 1 + r.IntN(7)
	if h.fwPort > 65000 {
		h.fwPort = 49152 + r.IntN(200)
	}
	return h.fwPort
}

// account is a domain account.
type account struct {
	name    string // sAMAccountName
	display string
	sid     string
	admin   bool
	arrive  int // minutes after midnight, usual arrival
	leave   int
}

// operator is a ComTech technician: an AD account, a ScreenConnect
// operator name and a VPN address.
type operator struct {
	acct   *account
	scName string
	vpnIP  string
	usual  bool // does routine maintenance
}

// company is the whole modelled organisation.
type company struct {
	domainSID string
	hosts     []*host
	staff     []*account
	itAdmin   *account
	svcBackup *account
	ops       []*operator
	start     time.Time // UTC
	end       time.Time // UTC
	loc       *time.Location
	holidays  map[string]string // YYYY-MM-DD → name, case zone
}

var firstNames = []string{"Anna", "Lukas", "Lena", "Jonas", "Marie", "Felix", "Sophie", "Paul", "Laura", "Maximilian",
	"Julia", "Tobias", "Katharina", "Simon", "Hannah", "Florian", "Sarah", "David", "Lisa", "Stefan",
	"Christina", "Markus", "Eva", "Andreas", "Miriam", "Thomas", "Carina", "Johannes", "Nina", "Matthias"}
var lastNames = []string{"Schneider", "Fischer", "Wagner", "Becker", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein",
	"Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
	"Schmitt", "Werner", "Krause", "Meier", "Lehmann", "Huber", "Kaiser", "Fuchs", "Peters", "Scholz"}

// asciiName folds German letters for account names.
func asciiName(s string) string {
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue")
	return strings.ToLower(r.Replace(s))
}

func newCompany(r *rand.Rand, nHosts, days int, end time.Time, loc *time.Location) *company {
	c := &company{loc: loc, end: end.UTC(), start: end.In(loc).AddDate(0, 0, -days).UTC()}
	c.domainSID = fmt.Sprintf("S-1-5-21-%d-%d-%d", 1000000000+r.IntN(2000000000), 1000000000+r.IntN(2000000000), 1000000000+r.IntN(2000000000))
	rid := 1103
	newAcct := func(name, display string, admin bool) *account {
		a := &account{name: name, display: display, sid: fmt.Sprintf("%s-%d", c.domainSID, rid), admin: admin}
		rid += 1 + r.IntN(3)
		a.arrive = 7*60 + 15 + r.IntN(100)
		a.leave = 16*60 + r.IntN(150)
		return a
	}
	servers := []struct {
		name string
		ip   string
		role role
	}{{"DC01", "10.10.0.10", roleDC}, {"DC02", "10.10.0.11", roleDC}, {"FS01", "10.10.0.20", roleFile}, {"ERP01", "10.10.0.30", roleERP}, {"BACKUP01", "10.10.0.40", roleBackup}}
	for _, s := range servers {
		c.hosts = append(c.hosts, &host{name: s.name, ip: s.ip, role: s.role})
	}
	c.itAdmin = newAcct("k.wagner-adm", "Katrin Wagner (Admin)", true)
	c.svcBackup = newAcct("svc-backup", "Backup Service", true)
	for _, n := range []struct{ last, first string }{{"mueller", "Thomas Müller"}, {"schmidt", "Sandra Schmidt"}, {"weber", "Jan Weber"}} {
		a := newAcct("ct-admin-"+n.last, n.first+" (ComTech IT)", true)
		c.ops = append(c.ops, &operator{acct: a, scName: "ct-" + n.last, vpnIP: fmt.Sprintf("%s%d", vpnPrefix, 11+len(c.ops)), usual: n.last != "weber"})
	}
	perm := r.Perm(len(firstNames) * len(lastNames))
	for i := 0; i < nHosts-len(servers); i++ {
		p := perm[i%len(perm)]
		first, last := firstNames[p%len(firstNames)], lastNames[p/len(firstNames)]
		a := newAcct(asciiName(first[:1]+"."+last), first+" "+last, false)
		if i >= len(perm) {
			a.name = fmt.Sprintf("%s%d", a.name, i/len(perm))
		}
		c.staff = append(c.staff, a)
		h := &host{name: fmt.Sprintf("PC-%03d", i+1), ip: fmt.Sprintf("10.10.%d.%d", 1+(100+i)/250, 1+(100+i)%250), role: roleClient, user: a}
		h.tvHost = i%4 == 1
		c.hosts = append(c.hosts, h)
	}
	for _, h := range c.hosts {
		h.anydesk = h.role == roleERP
		if h.role == roleBackup {
			h.tvHost = true
		}
		h.lsassPID = 600 + 4*uint32(r.IntN(60))
		h.svcPID = 900 + 4*uint32(r.IntN(60))
		h.scPID = 2000 + 4*uint32(r.IntN(400))
		h.sysmPID = 1800 + 4*uint32(r.IntN(50))
		h.nextPID = 4000 + 4*uint32(r.IntN(1000))
		h.logonSeq = 0x3E7000 + uint64(r.IntN(0x10000))
		h.fwPort = 49152 + r.IntN(5000)
	}
	c.holidays = bwHolidays(c.start.In(loc).Year(), c.end.In(loc).Year())
	return c
}

// host returns the host by name.
func (c *company) host(name string) *host {
	for _, h := range c.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

// workday reports whether the local date is a business day.
func (c *company) workday(day time.Time) bool {
	wd := day.Weekday()
	if wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, hol := c.holidays[day.Format("2006-01-02")]
	return !hol
}

// holidaysIn lists the holidays inside the period, sorted.
func (c *company) holidaysIn() []string {
	from, to := c.start.In(c.loc).Format("2006-01-02"), c.end.In(c.loc).Format("2006-01-02")
	var out []string
	for d := range c.holidays {
		if d >= from && d <= to {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

// at returns the UTC instant of a local wall-clock time on day (case
// zone; DST-correct because time.Date resolves it in loc).
func (c *company) at(day time.Time, minute int, sec int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, minute, sec, 0, c.loc).UTC()
}

// bwHolidays returns the public holidays of Baden-Württemberg for the
// years (inclusive).
func bwHolidays(from, to int) map[string]string {
	out := map[string]string{}
	for y := from; y <= to; y++ {
		e := easter(y)
		add := func(t time.Time, name string) { out[t.Format("2006-01-02")] = name }
		d := func(m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
		add(d(1, 1), "Neujahr")
		add(d(1, 6), "Heilige Drei Könige")
		add(e.AddDate(0, 0, -2), "Karfreitag")
		add(e.AddDate(0, 0, 1), "Ostermontag")
		add(d(5, 1), "Tag der Arbeit")
		add(e.AddDate(0, 0, 39), "Christi Himmelfahrt")
		add(e.AddDate(0, 0, 50), "Pfingstmontag")
		add(e.AddDate(0, 0, 60), "Fronleichnam")
		add(d(10, 3), "Tag der Deutschen Einheit")
		add(d(11, 1), "Allerheiligen")
		add(d(12, 25), "1. Weihnachtstag")
		add(d(12, 26), "2. Weihnachtstag")
	}
	return out
}

// easter is the Gregorian Easter Sunday (anonymous Gregorian algorithm).
func easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// guid renders a GUID from the generator, in Windows' braced upper case.
func guid(r *rand.Rand) string {
	return strings.ToUpper("{" + uuid(r) + "}")
}

// uuid renders a lower-case RFC 4122 version-4 UUID from the generator.
func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	a = (a &^ (0xf << 12)) | (4 << 12)
	b = (b &^ (0x3 << 62)) | (0x2 << 62)
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
