package sqlexport

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/spoor-dfir/spoor/internal/sigma"
)

// sigmaCompiler turns one Sigma rule's detection into SQL with the
// meaning internal/sigma gives it: field names resolved per logsource
// source (renames), typed columns for the System fields, raw fields from
// the fields JSON (one level down for UserData-style events with at most
// three top-level fields), case-insensitive wildcards, and a missing
// field matching only null or an empty plain value.
type sigmaCompiler struct {
	d       Dialect
	sources []sigma.Source
	slots   *slots
}

// sigmaDoc finds the document of a Sigma rule in its file: the mapping at
// the rule's line. Collection files (action: global/repeat) have no
// single document to compile and are reported as such.
func sigmaDoc(data []byte, line int) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		n := doc.Content[0]
		if get(n, "action") != nil {
			return nil, unsup("a Sigma collection file (action: …)")
		}
		if n.Line == line {
			return n, nil
		}
	}
	return nil, fmt.Errorf("no Sigma document at line %d", line)
}

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// resolveLogsource is internal/sigma's logsource resolution over the
// exported table: product-only rules are not narrowed.
func resolveLogsource(ls *sigma.Logsources, product, category, service string) ([]sigma.Source, bool) {
	if category == "" && service == "" {
		return nil, true
	}
	eq := func(want, have string) bool { return want == "" || strings.EqualFold(want, have) }
	var srcs []sigma.Source
	ok := false
	for _, e := range ls.Entries {
		if e.Category == "" && e.Service == "" {
			continue
		}
		if e.Category != "" && category == "" || e.Service != "" && service == "" {
			continue
		}
		if eq(e.Product, product) && eq(e.Category, category) && eq(e.Service, service) {
			srcs = append(srcs, e.Sources...)
			ok = true
		}
	}
	return srcs, ok
}

// compileSigma compiles the detection of a Sigma rule document to a SQL
// predicate (the logsource narrowing included).
func compileSigma(d Dialect, sl *slots, n *yaml.Node) (string, error) {
	if get(n, "correlation") != nil {
		return "", unsup("a correlation rule (stateful)")
	}
	ls := get(n, "logsource")
	var product, category, service string
	if ls != nil {
		product, category, service = scalarOf(get(ls, "product")), scalarOf(get(ls, "category")), scalarOf(get(ls, "service"))
	}
	srcs, ok := resolveLogsource(sigma.DefaultLogsources(), product, category, service)
	if !ok {
		return "", fmt.Errorf("no logsource mapping")
	}
	c := &sigmaCompiler{d: d, sources: srcs, slots: sl}
	det := get(n, "detection")
	if det == nil || det.Kind != yaml.MappingNode {
		return "", fmt.Errorf("no detection")
	}
	sels := map[string]string{}
	var cond *yaml.Node
	for i := 0; i+1 < len(det.Content); i += 2 {
		k, v := det.Content[i], det.Content[i+1]
		switch k.Value {
		case "condition":
			cond = v
			continue
		case "timeframe":
			continue
		}
		s, err := c.selection(v)
		if err != nil {
			return "", err
		}
		sels[k.Value] = s
	}
	if cond == nil {
		return "", fmt.Errorf("no condition")
	}
	var conds []string
	switch cond.Kind {
	case yaml.ScalarNode:
		conds = []string{cond.Value}
	case yaml.SequenceNode:
		for _, it := range cond.Content {
			conds = append(conds, it.Value)
		}
	}
	var ors []string
	for _, cs := range conds {
		s, err := parseSigmaCondition(cs, sels)
		if err != nil {
			return "", err
		}
		ors = append(ors, s)
	}
	if len(ors) == 0 {
		return "", fmt.Errorf("empty condition")
	}
	where := or(ors)
	if len(srcs) > 0 {
		var in []string
		for _, s := range srcs {
			in = append(in, c.sourceCond(s))
		}
		where = "(" + or(in) + " AND " + where + ")"
	}
	return where, nil
}

// scalarOf is a node's scalar value, "" for none.
func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func or(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

func and(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// sourceCond is true for the events of one logsource source.
func (c *sigmaCompiler) sourceCond(s sigma.Source) string {
	q := "lower(" + c.d.ident("channel") + ") = " + c.d.str(strings.ToLower(s.Channel))
	if len(s.EventIDs) > 0 {
		ids := make([]string, len(s.EventIDs))
		for i, id := range s.EventIDs {
			ids[i] = itoa(int64(id))
		}
		q += " AND " + c.d.ident("event_id") + " IN (" + strings.Join(ids, ", ") + ")"
	}
	return "(" + q + ")"
}

func (c *sigmaCompiler) selection(n *yaml.Node) (string, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return c.fieldMap(n)
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return "", fmt.Errorf("empty search identifier")
		}
		var ors []string
		for _, it := range n.Content {
			if it.Kind != yaml.MappingNode {
				return "", unsup("keywords (a search in every value)")
			}
			s, err := c.fieldMap(it)
			if err != nil {
				return "", err
			}
			ors = append(ors, s)
		}
		return or(ors), nil
	}
	return "", unsup("keywords (a search in every value)")
}

func (c *sigmaCompiler) fieldMap(n *yaml.Node) (string, error) {
	var ands []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		parts := strings.Split(k.Value, "|")
		s, err := c.fieldValues(parts[0], parts[1:], v)
		if err != nil {
			return "", err
		}
		ands = append(ands, s)
	}
	if len(ands) == 0 {
		return "", fmt.Errorf("empty search identifier")
	}
	return and(ands), nil
}

type sigmaMods struct {
	transforms []string
	op         string
	all, cased bool
	reFlags    string
}

func parseSigmaMods(mods []string) (sigmaMods, error) {
	var m sigmaMods
	setOp := func(op string) error {
		if m.op != "" && m.op != op {
			if m.op == "fieldref" && (op == "contains" || op == "startswith" || op == "endswith") {
				m.op = "fieldref-" + op
				return nil
			}
			if op == "fieldref" && (m.op == "contains" || m.op == "startswith" || m.op == "endswith") {
				m.op = "fieldref-" + m.op
				return nil
			}
			return fmt.Errorf("modifiers %s and %s cannot be combined", m.op, op)
		}
		m.op = op
		return nil
	}
	for _, mod := range mods {
		switch l := strings.ToLower(mod); l {
		case "contains", "startswith", "endswith", "re", "cidr", "gt", "gte", "lt", "lte", "exists", "fieldref":
			if err := setOp(l); err != nil {
				return m, err
			}
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "expand":
			return m, unsup("the expand modifier (case placeholders)")
		case "wide", "utf16le":
			m.transforms = append(m.transforms, "utf16le")
		case "utf16be", "utf16", "base64", "base64offset", "windash":
			m.transforms = append(m.transforms, l)
		case "i", "ignorecase":
			m.reFlags += "i"
		case "m", "multiline":
			m.reFlags += "m"
		case "s", "dotall":
			m.reFlags += "s"
		default:
			return m, fmt.Errorf("unsupported modifier %q", mod)
		}
	}
	return m, nil
}

// getter is a field's value (never NULL: "" when absent), the value in
// lower case, and whether the event has it (never NULL).
type getter struct{ v, l, p string }

// field resolves a Sigma field name: per source when the logsource
// renames it, else the same everywhere.
func (c *sigmaCompiler) field(name string) (getter, error) {
	def, err := c.fieldGetter(name)
	if err != nil {
		return getter{}, err
	}
	renamed := false
	per := make([]getter, len(c.sources))
	for i, s := range c.sources {
		if raw, ok := s.Fields[name]; ok && raw != name {
			if per[i], err = c.fieldGetter(raw); err != nil {
				return getter{}, err
			}
			renamed = true
		} else {
			per[i] = def
		}
	}
	if !renamed {
		return def, nil
	}
	var vs, ls, ps strings.Builder
	vs.WriteString("(CASE")
	ls.WriteString("(CASE")
	ps.WriteString("(CASE")
	for i, s := range c.sources {
		cond := c.sourceCond(s)
		fmt.Fprintf(&vs, " WHEN %s THEN %s", cond, per[i].v)
		fmt.Fprintf(&ls, " WHEN %s THEN %s", cond, per[i].l)
		fmt.Fprintf(&ps, " WHEN %s THEN %s", cond, per[i].p)
	}
	fmt.Fprintf(&vs, " ELSE %s END)", def.v)
	fmt.Fprintf(&ls, " ELSE %s END)", def.l)
	fmt.Fprintf(&ps, " ELSE %s END)", def.p)
	// Many rules of one logsource read the same renamed field: it is
	// computed once per row in the projection.
	return c.slots.renamed(c.d, getter{vs.String(), ls.String(), ps.String()}), nil
}

var plainField = regexp.MustCompile(`^[A-Za-z0-9_.\- ]+$`)

// fieldGetter is internal/sigma's getter for one raw name.
func (c *sigmaCompiler) fieldGetter(name string) (getter, error) {
	d := c.d
	col := d.ident
	typed := func(v, p string) getter { return getter{v, "lower(" + v + ")", p} }
	switch name {
	case "EventID":
		return typed(d.intText(col("event_id")), "TRUE"), nil
	case "Channel":
		return typed(col("channel"), "("+col("channel")+" <> '')"), nil
	case "Computer":
		return typed(col("host"), "("+col("host")+" <> '')"), nil
	case "EventRecordID":
		return typed(d.intText(col("record_id")), "("+col("record_id")+" <> 0)"), nil
	case "Data":
		return getter{}, unsup("the Data field (unnamed <Data> elements joined)")
	}
	if !plainField.MatchString(name) {
		return getter{}, unsup("field name %q", name)
	}
	raw := c.slots.sigma(d, name)
	if name == "Provider_Name" {
		pr := col("provider")
		return getter{"(CASE WHEN " + pr + " <> '' THEN " + pr + " ELSE " + raw.v + " END)",
			"(CASE WHEN " + pr + " <> '' THEN lower(" + pr + ") ELSE " + raw.l + " END)",
			"(" + pr + " <> '' OR " + raw.p + ")"}, nil
	}
	return raw, nil
}

func (c *sigmaCompiler) fieldValues(fieldName string, modNames []string, v *yaml.Node) (string, error) {
	m, err := parseSigmaMods(modNames)
	if err != nil {
		return "", err
	}
	if fieldName == "" {
		return "", unsup("keywords (a search in every value)")
	}
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	var vals []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		vals = []*yaml.Node{v}
	case yaml.SequenceNode:
		vals = v.Content
	default:
		return "", fmt.Errorf("value must be a scalar or a list")
	}
	if len(vals) == 0 {
		return "", fmt.Errorf("empty value list")
	}
	g, err := c.field(fieldName)
	if err != nil {
		return "", err
	}
	// Conditions that need the field to exist share one test of it.
	var plain, needP []string
	for _, n := range vals {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.ScalarNode {
			return "", fmt.Errorf("list values must be scalars")
		}
		if n.Tag == "!!null" {
			plain = append(plain, "(NOT "+g.p+" OR "+g.v+" = '')")
			continue
		}
		s, p, err := c.value(g, n, m)
		if err != nil {
			return "", err
		}
		if m.op != "exists" && !strings.HasPrefix(m.op, "fieldref") {
			if s, p, err = c.mappedValue(fieldName, g, n, m, s, p); err != nil {
				return "", err
			}
		}
		if p {
			needP = append(needP, s)
		} else {
			plain = append(plain, s)
		}
	}
	if m.all {
		if len(needP) > 0 {
			plain = append(plain, g.p)
		}
		return and(append(plain, dedupe(needP)...)), nil
	}
	if len(needP) > 0 {
		sort.Strings(needP)
		plain = append(plain, "("+g.p+" AND "+or(dedupe(needP))+")")
	}
	return or(plain), nil
}

// mappedValue widens the condition cond (needP: p) of value n as
// internal/sigma does where a logsource source writes the value
// differently (Source.Values): on that source's events the source's
// spelling matches too.
func (c *sigmaCompiler) mappedValue(field string, g getter, n *yaml.Node, m sigmaMods, cond string, p bool) (string, bool, error) {
	whole := func(s string, p bool) string {
		if p {
			return "(" + g.p + " AND " + s + ")"
		}
		return s
	}
	var alts []string
	for _, src := range c.sources {
		for _, k := range slices.Sorted(maps.Keys(src.Values[field])) {
			if !strings.EqualFold(k, n.Value) {
				continue
			}
			alt := *n
			alt.Value = src.Values[field][k]
			s, ap, err := c.value(g, &alt, m)
			if err != nil {
				return "", false, err
			}
			alts = append(alts, "("+c.sourceCond(src)+" AND "+whole(s, ap)+")")
		}
	}
	if len(alts) == 0 {
		return cond, p, nil
	}
	return or(append([]string{whole(cond, p)}, alts...)), false, nil
}

// value compiles one value; needP says the condition holds only when the
// field exists (the caller adds that test).
func (c *sigmaCompiler) value(g getter, n *yaml.Node, m sigmaMods) (cond string, needP bool, err error) {
	d := c.d
	raw := n.Value
	switch m.op {
	case "exists":
		want, err := strconv.ParseBool(raw)
		if err != nil || n.Tag != "!!bool" {
			return "", false, fmt.Errorf("exists needs true or false")
		}
		if want {
			return g.p, false, nil
		}
		return "(NOT " + g.p + ")", false, nil
	case "re":
		if len(m.transforms) > 0 {
			return "", false, fmt.Errorf("re cannot be combined with encodings")
		}
		flags := ""
		for _, f := range "ims" {
			if strings.ContainsRune(m.reFlags, f) {
				flags += string(f)
			}
		}
		pat := raw
		if flags != "" {
			pat = "(?" + flags + ")" + pat
		}
		if _, err := regexp.Compile(pat); err != nil {
			return "", false, fmt.Errorf("regular expression %q: %v", raw, err)
		}
		if err := portableRegex(pat); err != nil {
			return "", false, err
		}
		return d.regex(g.v, pat), true, nil
	case "cidr":
		pfx, err := netip.ParsePrefix(strings.TrimSpace(raw))
		if err != nil {
			return "", false, fmt.Errorf("cidr %q: %v", raw, err)
		}
		ec := &exprCompiler{d: d}
		in, err := ec.inNets("trim("+g.v+")", []netip.Prefix{pfx})
		if err != nil {
			return "", false, err
		}
		return in.sql, true, nil
	case "gt", "gte", "lt", "lte":
		want, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return "", false, fmt.Errorf("%s needs a number", m.op)
		}
		op := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[m.op]
		num := "try_cast(trim(" + g.v + ") AS DOUBLE)"
		if d == Spark {
			num = "cast(trim(" + g.v + ") AS DOUBLE)"
		}
		// Go also reads hexadecimal (0x…); SQL casts do not.
		hex := d.like("lower(trim("+g.v+"))", "0x%")
		return "(NOT " + hex + " AND coalesce(" + num + " " + op + " " + strconv.FormatFloat(want, 'g', -1, 64) + ", FALSE))", true, nil
	case "fieldref", "fieldref-contains", "fieldref-startswith", "fieldref-endswith":
		o, err := c.field(raw)
		if err != nil {
			return "", false, err
		}
		a, b := g.v, o.v
		if !m.cased {
			a, b = g.l, o.l
		}
		ec := &exprCompiler{d: d}
		var cmp string
		switch strings.TrimPrefix(strings.TrimPrefix(m.op, "fieldref"), "-") {
		case "contains":
			cmp = ec.strOp("contains", a, b)
		case "startswith":
			cmp = ec.strOp("startsWith", a, b)
		case "endswith":
			cmp = ec.strOp("endsWith", a, b)
		default:
			cmp = "(" + a + " = " + b + ")"
		}
		return "(" + o.p + " AND " + cmp + ")", true, nil
	}
	variants := [][]token{parsePattern(raw)}
	for _, t := range m.transforms {
		var next [][]token
		for _, toks := range variants {
			out, err := transform(t, toks)
			if err != nil {
				return "", false, err
			}
			next = append(next, out...)
		}
		variants = next
	}
	var likes []string
	for _, toks := range variants {
		if lit, ok := plainText(toks); ok && m.op == "contains" && lit != "" {
			// A substring test is shorter to plan and faster than LIKE.
			if err := textOK(lit); err != nil {
				return "", false, err
			}
			if m.cased {
				likes = append(likes, d.contains(g.v, d.str(lit)))
			} else {
				likes = append(likes, d.contains(g.l, d.str(strings.ToLower(lit))))
			}
			continue
		}
		pat, err := likePattern(toks, m.op)
		if err != nil {
			return "", false, err
		}
		if m.cased {
			likes = append(likes, d.like(g.v, pat))
		} else {
			likes = append(likes, d.like(g.l, strings.ToLower(pat)))
		}
	}
	sort.Strings(likes)
	likes = dedupe(likes)
	if len(variants) == 1 && raw == "" && len(m.transforms) == 0 && m.op == "" {
		// Sigma's empty value also stands for a missing field.
		return "(NOT " + g.p + " OR " + g.v + " = '')", false, nil
	}
	return or(likes), true, nil
}

func dedupe(l []string) []string {
	out := l[:0]
	for i, s := range l {
		if i == 0 || s != l[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// token is a piece of a Sigma string: literal text or a wildcard.
type token struct {
	kind byte // 'l' literal, '*' any run, '?' one character
	lit  string
}

// parsePattern is Sigma's string syntax: * and ? are wildcards, a
// backslash escapes *, ? and itself, any other backslash is literal.
func parsePattern(s string) []token {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: 'l', lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch ch {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				lit.WriteByte(s[i+1])
				i++
				continue
			}
			lit.WriteByte(ch)
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != '*' {
				toks = append(toks, token{kind: '*'})
			}
		case '?':
			flush()
			toks = append(toks, token{kind: '?'})
		default:
			lit.WriteByte(ch)
		}
	}
	flush()
	return toks
}

// likePattern is the LIKE pattern (escape '!') for tokens under an
// operation. Literals that are not valid text (UTF-16 bytes) cannot be
// written in SQL.
func likePattern(toks []token, op string) (string, error) {
	var b strings.Builder
	if op == "contains" || op == "endswith" {
		b.WriteByte('%')
	}
	for _, t := range toks {
		switch t.kind {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		default:
			if err := textOK(t.lit); err != nil {
				return "", err
			}
			for _, r := range t.lit {
				if r == '%' || r == '_' || r == '!' {
					b.WriteByte('!')
				}
				b.WriteRune(r)
			}
		}
	}
	if op == "contains" || op == "startswith" {
		b.WriteByte('%')
	}
	return b.String(), nil
}

// plainText reports whether toks is one literal (or empty) and returns it.
func plainText(toks []token) (string, bool) {
	switch {
	case len(toks) == 0:
		return "", true
	case len(toks) == 1 && toks[0].kind == 'l':
		return toks[0].lit, true
	}
	return "", false
}

// textOK rejects literals that cannot be written as SQL text: encodings
// (utf16) give bytes that are not UTF-8 or hold NUL.
func textOK(s string) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return unsup("a value encoded to bytes that are not text (utf16)")
	}
	return nil
}

// windashChars and transform follow internal/sigma (the Sigma
// specification's encodings).
var windashChars = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

func transform(t string, toks []token) ([][]token, error) {
	if t == "windash" {
		var out [][]token
		for _, ch := range windashChars {
			nt := make([]token, len(toks))
			for i, tk := range toks {
				nt[i] = tk
				if tk.kind == 'l' {
					nt[i].lit = windash(tk.lit, ch, i == 0 || toks[i-1].kind != 'l')
				}
			}
			out = append(out, nt)
		}
		return out, nil
	}
	var lit string
	switch {
	case len(toks) == 0:
	case len(toks) == 1 && toks[0].kind == 'l':
		lit = toks[0].lit
	default:
		return nil, fmt.Errorf("%s cannot encode a value with wildcards", t)
	}
	switch t {
	case "utf16le", "utf16be", "utf16":
		u := utf16.Encode([]rune(lit))
		var b []byte
		if t == "utf16" {
			b = append(b, 0xFF, 0xFE)
		}
		for _, r := range u {
			if t == "utf16be" {
				b = binary.BigEndian.AppendUint16(b, r)
			} else {
				b = binary.LittleEndian.AppendUint16(b, r)
			}
		}
		return [][]token{{{kind: 'l', lit: string(b)}}}, nil
	case "base64":
		return [][]token{{{kind: 'l', lit: base64.StdEncoding.EncodeToString([]byte(lit))}}}, nil
	case "base64offset":
		starts := [3]int{0, 2, 3}
		ends := [3]int{0, -3, -2}
		var out [][]token
		seen := map[string]bool{}
		for i := 0; i < 3; i++ {
			enc := base64.StdEncoding.EncodeToString(append([]byte(strings.Repeat(" ", i)), lit...))
			end := len(enc)
			if e := ends[(len(lit)+i)%3]; e != 0 {
				end += e
			}
			if starts[i] > end {
				continue
			}
			s := enc[starts[i]:end]
			if !seen[s] {
				seen[s] = true
				out = append(out, []token{{kind: 'l', lit: s}})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported modifier %q", t)
}

func windash(s, ch string, atStart bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == '/' {
			prevOK := (i == 0 && atStart) || (i > 0 && !isWord(s[i-1]))
			nextOK := i+1 < len(s) && isWord(s[i+1])
			if prevOK && nextOK {
				b.WriteString(ch)
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80
}

// parseSigmaCondition compiles a condition over the selections' SQL:
//
//	expr = and {"or" and}; and = not {"and" not}; not = "not" not | primary
//	primary = "(" expr ")" | ("1"|"any"|"all") "of" name | name
func parseSigmaCondition(s string, sels map[string]string) (string, error) {
	p := &condParser{toks: tokenizeCond(s), sels: sels}
	if len(p.toks) == 0 {
		return "", fmt.Errorf("empty condition")
	}
	for _, t := range p.toks {
		if t == "|" {
			return "", unsup("a Sigma 1 aggregation (| count())")
		}
	}
	e, err := p.expr()
	if err != nil {
		return "", err
	}
	if p.pos != len(p.toks) {
		return "", fmt.Errorf("condition %q: unexpected %q", s, p.toks[p.pos])
	}
	return e, nil
}

type condParser struct {
	toks []string
	pos  int
	sels map[string]string
}

func tokenizeCond(s string) []string {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '|':
			flush()
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return toks
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) expr() (string, error) {
	l, err := p.and()
	if err != nil {
		return "", err
	}
	parts := []string{l}
	for strings.EqualFold(p.peek(), "or") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return "", err
		}
		parts = append(parts, r)
	}
	return or(parts), nil
}

func (p *condParser) and() (string, error) {
	l, err := p.not()
	if err != nil {
		return "", err
	}
	parts := []string{l}
	for strings.EqualFold(p.peek(), "and") {
		p.pos++
		r, err := p.not()
		if err != nil {
			return "", err
		}
		parts = append(parts, r)
	}
	return and(parts), nil
}

func (p *condParser) not() (string, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.pos++
		x, err := p.not()
		if err != nil {
			return "", err
		}
		return "(NOT " + x + ")", nil
	}
	return p.primary()
}

func (p *condParser) primary() (string, error) {
	t := p.peek()
	switch {
	case t == "":
		return "", fmt.Errorf("unexpected end")
	case t == "(":
		p.pos++
		e, err := p.expr()
		if err != nil {
			return "", err
		}
		if p.peek() != ")" {
			return "", fmt.Errorf("missing )")
		}
		p.pos++
		return e, nil
	case t == ")" || strings.EqualFold(t, "and") || strings.EqualFold(t, "or"):
		return "", fmt.Errorf("unexpected %q", t)
	}
	if p.pos+1 < len(p.toks) && strings.EqualFold(p.toks[p.pos+1], "of") {
		q := strings.ToLower(t)
		if q != "1" && q != "any" && q != "all" {
			return "", fmt.Errorf("unsupported quantifier %q", t)
		}
		if p.pos+2 >= len(p.toks) {
			return "", fmt.Errorf("%s of: missing identifier", t)
		}
		target := p.toks[p.pos+2]
		p.pos += 3
		var names []string
		for n := range p.sels {
			if target == "them" && !strings.HasPrefix(n, "_") {
				names = append(names, n)
			} else if target != "them" {
				if ok, _ := path.Match(target, n); ok {
					names = append(names, n)
				}
			}
		}
		if len(names) == 0 {
			return "", fmt.Errorf("%q matches no search identifier", target)
		}
		sort.Strings(names)
		parts := make([]string, len(names))
		for i, n := range names {
			parts[i] = p.sels[n]
		}
		if q == "all" {
			return and(parts), nil
		}
		return or(parts), nil
	}
	p.pos++
	s, ok := p.sels[t]
	if !ok {
		return "", fmt.Errorf("unknown search identifier %q", t)
	}
	return s, nil
}
