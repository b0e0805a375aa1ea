package triage

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spoor-dfir/spoor/internal/asciifold"
	"github.com/spoor-dfir/spoor/internal/event"
)

// shapeFields are the raw fields that say what an event without a
// process or script did (Sysmon's registry, file, image-load, pipe and
// DNS events, service installs, scheduled tasks, share access). Who and
// where (user, host, logon ids) are left out on purpose: the shape is
// the behaviour, which the baseline then counts across hosts and days.
var shapeFields = []string{
	"TargetObject", "Details", "TargetFilename", "ImageLoaded", "PipeName", "QueryName",
	"ServiceName", "ImagePath", "ServiceFileName", "TaskName", "ShareName", "RelativeTargetName",
}

// ShapeColumns are the stored columns Shape reads beyond
// rule.FindingColumns (which hold the channel, event id and users):
// image, parent, command line, script and the raw fields. A hunt decodes
// them for every event a rule may fire on when triage runs.
var ShapeColumns = []string{"process", "parent_process", "command_line", "script_text", "fields"}

// maxShape bounds a shape; long scripts differ early if they differ.
const maxShape = 1024

// Shape is the normalised shape of an event for the baseline: image,
// parent, command line (or script text) and the fields in shapeFields,
// lower-cased, with GUIDs, numbers, hex strings, user profile names and
// temporary names masked. An event with none of them has the shape of
// its kind (kindShape); "" only when it has no fields at all: such a
// finding is never judged routine, since nothing tells one occurrence
// from another.
func Shape(ev *event.Event) string { return ShapeFrom(ev, ev.Field, nil) }

// ShapeFrom is Shape with ev's raw fields read by a reader that has them
// parsed already: field must answer as ev.Field does, and pairs (if not
// nil, and when it says ok) give all of them in order, values as
// strings, as ev's field dict holds them.
func ShapeFrom(ev *event.Event, field func(name string) string, pairs func() ([]event.KV, bool)) string {
	return (*Shaper)(nil).Shape(ev, field, pairs)
}

// Shaper works out shapes as ShapeFrom does, remembering the masked form
// of short values it has seen: real events repeat their values (status
// codes, logon processes, packages, service paths) far more often than
// their shapes. One goroutine's; a nil Shaper remembers nothing.
type Shaper struct {
	masked map[string]string
	// shapes holds the shapes made, so that events of one shape (a
	// brute force's hundred thousand failures) share one string, built
	// in buf and allocated only when new.
	shapes map[string]string
	names  map[string]nameInfo // see nameOf
	buf    bytes.Buffer
}

// NewShaper returns a Shaper for one goroutine.
func NewShaper() *Shaper {
	return &Shaper{masked: map[string]string{}, shapes: map[string]string{}, names: map[string]nameInfo{}}
}

// A Shaper remembers values up to maxMemoValue bytes, at most
// maxMemoValues of them (then it starts afresh).
const (
	maxMemoValue  = 128
	maxMemoValues = 1 << 14
)

// mask writes Mask(v) to b.
func (sh *Shaper) mask(b *bytes.Buffer, v string) {
	if sh == nil || len(v) > maxMemoValue {
		b.WriteString(Mask(v))
		return
	}
	m, ok := sh.masked[v]
	if !ok {
		m = Mask(v)
		if len(sh.masked) >= maxMemoValues {
			clear(sh.masked)
		}
		// A copy of the key: v may share the memory of a whole record.
		sh.masked[strings.Clone(v)] = m
	}
	b.WriteString(m)
}

// Shape is ShapeFrom.
func (sh *Shaper) Shape(ev *event.Event, field func(name string) string, pairs func() ([]event.KV, bool)) string {
	var own bytes.Buffer
	b := &own
	if sh != nil {
		b = &sh.buf
		b.Reset()
	} else {
		b.Grow(256) // most shapes fit; growing from nothing copied them several times
	}
	add := func(k, v string) {
		if v = strings.TrimSpace(v); v == "" || b.Len() >= maxShape {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(k)
		b.WriteByte('=')
		sh.mask(b, v)
	}
	// The raw fields a shape reads, in one pass over the pairs when the
	// reader has them (a lookup per name searched them twenty times).
	var kvs []event.KV
	flat := false
	if pairs != nil {
		kvs, flat = pairs()
	}
	var vals [len(slotNames)]string
	if flat {
		for _, kv := range kvs {
			if i := slotOf(kv.Key); i >= 0 {
				vals[i] = kv.Value
			}
		}
	} else {
		for i, n := range slotNames {
			vals[i] = field(n)
		}
	}
	add("image", first(ev.Process, vals[slotImage], vals[slotNewProcessName]))
	add("parent", first(ev.ParentProcess, vals[slotParentImage], vals[slotParentProcessName]))
	// A command line says what ran; a script's text only when there is
	// none (PowerShell's script block events).
	if cl := first(ev.CommandLine, vals[slotCommandLine]); cl != "" {
		add("cmd", cl)
	} else {
		add("script", clip(first(ev.ScriptText, vals[slotScriptBlockText]), 400))
	}
	for i := range shapeFields {
		add(shapeKeys[i], vals[slotShapeFields+i])
	}
	if b.Len() == 0 {
		if !flat {
			kvs = fieldPairs(ev)
		}
		sh.kindShape(b, ev, kvs, vals[slotSubjectUserName], vals[slotUser], add)
	}
	out := b.Bytes()
	if len(out) > maxShape {
		out = out[:maxShape]
	}
	if sh == nil {
		return string(out)
	}
	if s, ok := sh.shapes[string(out)]; ok {
		return s
	}
	s := string(out)
	if len(sh.shapes) >= maxMemoValues {
		clear(sh.shapes)
	}
	sh.shapes[s] = s
	return s
}

// shapeKeys are shapeFields lower-cased, as a shape names them.
var shapeKeys = func() []string {
	out := make([]string, len(shapeFields))
	for i, f := range shapeFields {
		out[i] = strings.ToLower(f)
	}
	return out
}()

// kindShape is the shape of an event that names no process, script or
// object (a DSRM password set, Sysmon's own state and configuration
// records): the kind of event and its remaining values, without who,
// where and when (accounts, SIDs, domains, logon ids, host and
// workstation names, times, GUIDs), which the baseline key and counts
// take care of, but for the kind of identity the record names. Without
// it such findings could never be routine, however regularly the same
// identity caused them.
func (sh *Shaper) kindShape(b *bytes.Buffer, ev *event.Event, kvs []event.KV, subjectUserName, user string, add func(k, v string)) {
	if len(kvs) == 0 {
		return // nothing tells one occurrence from another
	}
	b.WriteString("event=")
	b.WriteString(strings.ToLower(ev.Channel))
	b.WriteByte('/')
	b.WriteString(strconv.Itoa(int(ev.EventID)))
	// Who, as the baseline key counts it, from the record itself: such
	// events often have no user column (a 4794's subject), and the
	// nightly job's machine account must not vouch for an admin's act.
	if who := identity(first(ev.User, ev.SubjectUser, subjectUserName, user)); who != "" && who != "-" {
		b.WriteString("|by=")
		b.WriteString(who)
	}
	for _, kv := range kvs {
		if n := sh.nameOf(kv.Key); !n.whoWhereWhen {
			add(n.lower, kv.Value)
		}
	}
}

// slotNames are the raw fields a shape reads by name, each at its slot:
// the process, parent, command line and script, shapeFields, and the
// subject for kindShape.
var slotNames = [...]string{"Image", "NewProcessName", "ParentImage", "ParentProcessName", "CommandLine", "ScriptBlockText",
	"TargetObject", "Details", "TargetFilename", "ImageLoaded", "PipeName", "QueryName",
	"ServiceName", "ImagePath", "ServiceFileName", "TaskName", "ShareName", "RelativeTargetName",
	"SubjectUserName", "User"}

const (
	slotImage = iota
	slotNewProcessName
	slotParentImage
	slotParentProcessName
	slotCommandLine
	slotScriptBlockText
	slotShapeFields     // shapeFields follow in their order
	slotSubjectUserName = slotShapeFields + 12
	slotUser            = slotSubjectUserName + 1
)

// slotOf is name's slot in slotNames, -1 if a shape does not read it.
func slotOf(name string) int {
	switch name {
	case "Image":
		return slotImage
	case "NewProcessName":
		return slotNewProcessName
	case "ParentImage":
		return slotParentImage
	case "ParentProcessName":
		return slotParentProcessName
	case "CommandLine":
		return slotCommandLine
	case "ScriptBlockText":
		return slotScriptBlockText
	case "TargetObject":
		return slotShapeFields
	case "Details":
		return slotShapeFields + 1
	case "TargetFilename":
		return slotShapeFields + 2
	case "ImageLoaded":
		return slotShapeFields + 3
	case "PipeName":
		return slotShapeFields + 4
	case "QueryName":
		return slotShapeFields + 5
	case "ServiceName":
		return slotShapeFields + 6
	case "ImagePath":
		return slotShapeFields + 7
	case "ServiceFileName":
		return slotShapeFields + 8
	case "TaskName":
		return slotShapeFields + 9
	case "ShareName":
		return slotShapeFields + 10
	case "RelativeTargetName":
		return slotShapeFields + 11
	case "SubjectUserName":
		return slotSubjectUserName
	case "User":
		return slotUser
	}
	return -1
}

// maxNames bounds the raw field names a Shaper remembers (see nameOf);
// past it (hostile input) it works them out each time.
const maxNames = 1 << 14

type nameInfo struct {
	lower        string
	whoWhereWhen bool
}

// nameOf is what kindShape needs of a raw field name, remembered per
// Shaper: a hunt asks about the same few hundred names for every
// finding's event (a map shared by the workers, behind sync.Map, cost
// twice as much to ask).
func (sh *Shaper) nameOf(k string) nameInfo {
	if sh == nil {
		return nameInfo{strings.ToLower(k), whoWhereWhen(k)}
	}
	if v, ok := sh.names[k]; ok {
		return v
	}
	n := nameInfo{strings.ToLower(k), whoWhereWhen(k)}
	if len(sh.names) < maxNames {
		// A copy: k shares the memory of a whole stored record.
		sh.names[strings.Clone(k)] = n
	}
	return n
}

// fieldPairs is ev's raw fields in order, values as strings, as its
// field dict holds them: read straight from the stored text when it is a
// flat object of strings (nearly every event; building the dict for each
// finding's event was most of a hunt's triage cost), else from the dict.
func fieldPairs(ev *event.Event) []event.KV {
	if ev.Fields == nil && ev.RawFields != "" {
		if kvs, ok := event.ParseFlatFields(ev.RawFields, nil); ok {
			return kvs
		}
	}
	d := ev.FieldDict()
	if d == nil {
		return nil
	}
	kvs := make([]event.KV, 0, d.Len())
	for _, k := range d.Keys() {
		v, _ := d.Get(k)
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		kvs = append(kvs, event.KV{Key: k, Value: s})
	}
	return kvs
}

// whoWhereWhen says whether a field names an identity, a place, a time or
// an instance rather than what happened.
func whoWhereWhen(name string) bool {
	// ASCII folding finds the same as lower-casing the name: the only
	// other letter that lower-cases to ASCII is the Kelvin sign (k), in
	// none of the words.
	for _, w := range whoWhereWhenWords {
		if asciifold.Contains(name, w) {
			return true
		}
	}
	return false
}

var whoWhereWhenWords = []string{"user", "sid", "domain", "logon", "time", "guid", "processid", "threadid", "workstation", "computer", "hostname", "ipaddress", "ipport"}

func first(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// Mask lower-cases s, folds runs of white space, and replaces what
// changes from one run of the same behaviour to the next: the user name
// in a profile path (\users\NAME\ → \users\*\), and tokens (between
// separators such as \ / space quotes = , ; :) that look generated —
// numbers and versions, GUIDs and hex ids, temporary names like
// tmp3f2a.tmp or __PSScriptPolicyTest_4e1k2x.ps1 — by "#" (an extension
// is kept). Names with a digit or two (system32, net1.exe, x64) are kept,
// so what was run stays distinct.
func Mask(s string) string {
	s = foldSpaceLower(s)
	var b strings.Builder
	b.Grow(len(s))
	start := 0
	prevUsers := false
	for i := 0; i <= len(s); i++ {
		if i < len(s) && !isSep(s[i]) {
			continue
		}
		t := s[start:i]
		if prevUsers && t != "" && i < len(s) && (s[i] == '\\' || s[i] == '/') {
			b.WriteByte('*') // C:\Users\alice\… → c:\users\*\…
		} else {
			maskToken(&b, t)
		}
		if t != "" {
			prevUsers = t == "users" && i < len(s) && (s[i] == '\\' || s[i] == '/')
		}
		if i < len(s) {
			b.WriteByte(s[i])
		}
		start = i + 1
	}
	return b.String()
}

// maskToken writes t, or "#" (and t's extension) when t looks generated:
// only digits and punctuation, four digits or more, or three or more
// changes between letters and digits (hex, GUIDs, random names).
func maskToken(b *strings.Builder, t string) {
	name, ext := t, ""
	if i := strings.LastIndexByte(t, '.'); i > 0 && len(t)-i >= 2 && len(t)-i <= 5 && unicode.IsLetter(rune(t[i+1])) {
		name, ext = t[:i], t[i:] // .ps1, .tmp, .exe; not a version's last number
	}
	digits, letters, changes := 0, 0, 0
	last := 0 // 1 letter, 2 digit
	for _, r := range name {
		c := 0
		switch {
		case unicode.IsDigit(r):
			digits++
			c = 2
		case unicode.IsLetter(r):
			letters++
			c = 1
		}
		if c != 0 {
			if last != 0 && c != last {
				changes++
			}
			last = c
		}
	}
	if digits > 0 && (letters == 0 || digits >= 4 || changes >= 3) {
		b.WriteByte('#')
		b.WriteString(ext)
		return
	}
	b.WriteString(t)
}

func isSep(c byte) bool {
	switch c {
	case '\\', '/', ' ', '"', '\'', '=', ',', ';', ':', '(', ')', '[', ']', '{', '}', '|', '&', '<', '>', '`':
		return true
	}
	return false
}

// clip cuts s to n bytes at most (long scripts differ early if at all).
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// foldSpaceLower is strings.ToLower(strings.Join(strings.Fields(s), " ")),
// in one pass and one allocation for ASCII text (nearly every value).
func foldSpaceLower(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.ToLower(strings.Join(strings.Fields(s), " "))
		}
	}
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b)
}
