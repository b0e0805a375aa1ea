package sigma

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Every hunt loads the 2,400 shipped SigmaHQ rules before it reads an
// event, and decoding their YAML was half of that. Sigma rules use a small
// part of YAML: block mappings and sequences of plain, quoted and literal
// scalars. fastDoc reads that part itself, giving the nodes go-yaml gives
// (kind, style, tag, value, line, column: what the compiler reads; the
// tag resolved by go-yaml's own rules), and says ok false on anything
// else, which then goes to go-yaml (anchors, flow collections, tags,
// multi-line quoted scalars, tabs, several documents, …).
// TestFastYAMLAgreesWithGoYAML holds the two together on every shipped
// rule and the shared SigmaHQ checkout, FuzzFastYAML on random text.

// fline is one line of the text: its number, indentation and the text
// after the indentation.
type fline struct {
	num    int
	indent int
	text   string
}

// fastDoc reads data as one YAML document of the supported part and
// returns its root mapping, or says ok false.
//
// slab, if not nil, is the caller's room for nodes, used first and left
// with what this document did not take (one worker's documents share
// their chunks instead of each leaving part of its last one unused).
func fastDoc(data []byte, slab *[]yaml.Node) (root *yaml.Node, ok bool) {
	defer func() {
		if recover() != nil {
			root, ok = nil, false // a case not thought of: go-yaml decides
		}
	}()
	s := string(data)
	if !utf8.ValidString(s) || !printable(s) {
		return nil, false
	}
	lines := make([]fline, 0, strings.Count(s, "\n")+1)
	for n := 1; len(s) > 0; n++ {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...") || strings.HasPrefix(line, "%") {
			return nil, false
		}
		lines = append(lines, fline{num: n, indent: ind, text: line[ind:]})
	}
	p := &fparser{lines: lines, endsNL: len(data) > 0 && data[len(data)-1] == '\n'}
	if slab != nil {
		p.slab = *slab
		defer func() { *slab = p.slab }()
	}
	i := p.skip(0)
	if i >= len(lines) {
		return nil, false // no document: go-yaml says what that is
	}
	if lines[i].indent != 0 {
		return nil, false
	}
	root, j, ok := p.block(i, 0)
	if !ok || root.Kind != yaml.MappingNode {
		return nil, false
	}
	if p.skip(j) < len(lines) {
		return nil, false
	}
	return root, true
}

type fparser struct {
	lines  []fline
	endsNL bool // the text ends with a line break
	slab   []yaml.Node
}

// skip returns the index of the next line at or after i that is neither
// empty nor a comment.
func (p *fparser) skip(i int) int {
	for i < len(p.lines) {
		t := p.lines[i].text
		if t != "" && t[0] != '#' && strings.TrimRight(t, " ") != "" {
			return i
		}
		i++
	}
	return i
}

// within returns the next line that is neither empty nor a comment at
// or after i, and whether it still belongs to a collection at
// indentation ind (it is indented at least as far).
func (p *fparser) within(i, ind int) (int, bool) {
	i = p.skip(i)
	return i, i < len(p.lines) && p.lines[i].indent >= ind
}

// block reads the collection starting at line i (indentation ind).
func (p *fparser) block(i, ind int) (*yaml.Node, int, bool) {
	if isSeqItem(p.lines[i].text) {
		return p.sequence(i, ind)
	}
	return p.mapping(i, ind)
}

func isSeqItem(t string) bool { return t == "-" || strings.HasPrefix(t, "- ") }

// mapping reads a block mapping whose keys sit at indentation ind.
func (p *fparser) mapping(i, ind int) (*yaml.Node, int, bool) {
	m := p.node()
	*m = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: p.lines[i].num, Column: ind + 1, Content: make([]*yaml.Node, 0, 8)}
	for {
		var more bool
		if i, more = p.within(i, ind); !more {
			return m, i, true
		}
		l := p.lines[i]
		if l.indent > ind || isSeqItem(l.text) {
			return nil, 0, false
		}
		key, rest, ok := splitKey(l.text)
		if !ok {
			return nil, 0, false
		}
		for j := 0; j < len(m.Content); j += 2 {
			if m.Content[j].Value == key {
				return nil, 0, false // go-yaml refuses a key twice
			}
		}
		k := p.newScalar(key, 0, l.num, ind+1)
		vcol := ind + 1 + utf8.RuneCountInString(l.text[:len(l.text)-len(rest)]) // go-yaml counts characters
		v, next, ok := p.value(rest, i, vcol, ind, true)
		if !ok {
			return nil, 0, false
		}
		m.Content = append(m.Content, k, v)
		i = next
	}
}

// sequence reads a block sequence whose dashes sit at indentation ind.
func (p *fparser) sequence(i, ind int) (*yaml.Node, int, bool) {
	sq := p.node()
	*sq = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: p.lines[i].num, Column: ind + 1, Content: make([]*yaml.Node, 0, 4)}
	for {
		var more bool
		if i, more = p.within(i, ind); !more {
			return sq, i, true
		}
		l := p.lines[i]
		if l.indent > ind || !isSeqItem(l.text) {
			if l.indent == ind {
				return sq, i, true // the next key of a mapping at the same indentation
			}
			return nil, 0, false
		}
		item := strings.TrimPrefix(l.text, "-")
		sp := len(item) - len(strings.TrimLeft(item, " "))
		item = item[sp:]
		col := ind + 1 + 1 + sp // of the item's first character
		var v *yaml.Node
		var next int
		var ok bool
		switch {
		case item == "" || item[0] == '#':
			v, next, ok = p.value("", i, col, ind, false)
		case isSeqItem(item):
			return nil, 0, false // "- - x": not in Sigma rules
		default:
			if _, _, isKey := splitKey(item); isKey {
				// "- key: value": a mapping whose keys sit at the item's
				// column; the line is read again as its first entry.
				saved := p.lines[i]
				p.lines[i] = fline{num: l.num, indent: col - 1, text: item}
				v, next, ok = p.mapping(i, col-1)
				p.lines[i] = saved
			} else {
				v, next, ok = p.value(item, i, col, ind, false)
			}
		}
		if !ok {
			return nil, 0, false
		}
		sq.Content = append(sq.Content, v)
		i = next
	}
}

// value reads the value after a key or a dash: rest is the text after it
// on line i, at column col; the node sits under indentation ind. A value
// of a mapping key may be a sequence at the key's own indentation.
func (p *fparser) value(rest string, i, col, ind int, ofKey bool) (*yaml.Node, int, bool) {
	l := p.lines[i]
	rest = strings.TrimRight(rest, " ")
	if rest == "" || rest[0] == '#' {
		j := p.skip(i + 1)
		if j < len(p.lines) {
			nl := p.lines[j]
			if nl.indent > ind || ofKey && nl.indent == ind && isSeqItem(nl.text) {
				return p.block(j, nl.indent)
			}
		}
		return nil, 0, false // an empty value: go-yaml places its null
	}
	switch rest[0] {
	case '|', '>':
		return p.blockScalar(rest, i, col, ind)
	case '\'':
		v, ok := singleQuoted(rest)
		if !ok {
			return nil, 0, false
		}
		return p.newScalar(v, yaml.SingleQuotedStyle, l.num, col), i + 1, true
	case '"':
		v, ok := doubleQuoted(rest)
		if !ok {
			return nil, 0, false
		}
		return p.newScalar(v, yaml.DoubleQuotedStyle, l.num, col), i + 1, true
	}
	v, ok := plain(rest)
	if !ok {
		return nil, 0, false
	}
	// Continuation lines of a plain scalar are folded into it; a comment
	// ends it, so none may follow one.
	commented := strings.Contains(rest, " #")
	j := i + 1
	for j < len(p.lines) {
		nl := p.lines[j]
		t := strings.TrimRight(nl.text, " ")
		if t == "" {
			return nil, 0, false // an empty line inside: folding rules go-yaml knows
		}
		if nl.indent <= ind || t[0] == '#' {
			break
		}
		c, ok := plain(t)
		if !ok || isSeqItem(t) || commented {
			return nil, 0, false
		}
		commented = strings.Contains(t, " #")
		v += " " + c
		j++
	}
	return p.newScalar(v, 0, l.num, col), j, true
}

// blockScalar reads a literal block scalar (| |- |+); folded ones go to
// go-yaml.
func (p *fparser) blockScalar(head string, i, col, ind int) (*yaml.Node, int, bool) {
	if head[0] != '|' {
		return nil, 0, false
	}
	chomp := head[1:]
	if k := strings.IndexByte(chomp, '#'); k >= 0 {
		if k == 0 || chomp[k-1] != ' ' {
			return nil, 0, false
		}
		chomp = chomp[:k]
	}
	chomp = strings.TrimRight(chomp, " ")
	if chomp != "" && chomp != "-" && chomp != "+" {
		return nil, 0, false
	}
	var body []string
	bind := -1
	lead := 0 // the most spaces of the empty lines before the text
	j := i + 1
	for j < len(p.lines) {
		nl := p.lines[j]
		if strings.TrimRight(nl.text, " ") == "" {
			if bind >= 0 && nl.indent+len(nl.text) > bind {
				return nil, 0, false // spaces kept in an empty line
			}
			lead = max(lead, nl.indent+len(nl.text))
			body = append(body, "")
			j++
			continue
		}
		if nl.indent <= ind {
			break
		}
		if bind < 0 {
			bind = nl.indent
			if lead > bind {
				return nil, 0, false // go-yaml refuses more spaces before the text than in it
			}
		}
		if nl.indent < bind {
			return nil, 0, false
		}
		body = append(body, strings.Repeat(" ", nl.indent-bind)+nl.text)
		j++
	}
	if bind < 0 || j == len(p.lines) && !p.endsNL {
		return nil, 0, false // at the end without a line break: go-yaml's chomping
	}
	// Trailing empty lines belong to the chomping, not to the text.
	n := len(body)
	for n > 0 && body[n-1] == "" {
		n--
	}
	trailing := len(body) - n
	v := strings.Join(body[:n], "\n")
	switch chomp {
	case "":
		v += "\n"
	case "+":
		v += "\n" + strings.Repeat("\n", trailing)
	}
	// Lines past the text that were empty are not the next node's.
	return p.newScalar(v, yaml.LiteralStyle, p.lines[i].num, col), j, true
}

// splitKey splits "key: rest" (or "key:") with a plain key of the kind
// Sigma uses (field names with modifiers); ok false for anything else.
func splitKey(t string) (key, rest string, ok bool) {
	k := strings.Index(t, ": ")
	if k < 0 {
		if !strings.HasSuffix(t, ":") {
			return "", "", false
		}
		k = len(t) - 1
	}
	key = t[:k]
	if len(key) > 1000 {
		return "", "", false // YAML bounds a key on one line (1024 characters)
	}
	if key == "" || key != strings.TrimRight(key, " ") || strings.Contains(key, " #") {
		return "", "", false
	}
	if _, ok := plain(key); !ok || strings.ContainsAny(key, "'\"") {
		return "", "", false
	}
	if strings.IndexByte(t[:k], ':') >= 0 {
		return "", "", false // "a:b: c": go-yaml's reading
	}
	rest = strings.TrimLeft(t[k+1:], " ")
	return key, rest, true
}

// plain checks a plain scalar on one line and cuts a trailing comment.
func plain(t string) (string, bool) {
	if k := strings.Index(t, " #"); k >= 0 {
		t = strings.TrimRight(t[:k], " ")
	}
	if t == "" {
		return "", false
	}
	switch t[0] {
	case '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', ',':
		return "", false
	case '-', '?', ':':
		if len(t) == 1 || t[1] == ' ' {
			return "", false
		}
	}
	if strings.Contains(t, ": ") || strings.HasSuffix(t, ":") {
		return "", false
	}
	return t, true
}

// singleQuoted reads a one-line single-quoted scalar (a doubled quote is
// one quote) and checks that only blanks or a comment follow it.
func singleQuoted(t string) (string, bool) {
	var b strings.Builder
	i := 1
	for {
		k := strings.IndexByte(t[i:], '\'')
		if k < 0 {
			return "", false // continues on the next line
		}
		b.WriteString(t[i : i+k])
		i += k + 1
		if i < len(t) && t[i] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		break
	}
	return b.String(), afterQuoted(t[i:])
}

// doubleQuoted reads a one-line double-quoted scalar with the escapes
// Sigma rules use.
func doubleQuoted(t string) (string, bool) {
	var b strings.Builder
	i := 1
	for i < len(t) {
		c := t[i]
		switch c {
		case '"':
			return b.String(), afterQuoted(t[i+1:])
		case '\\':
			if i+1 >= len(t) {
				return "", false
			}
			e := t[i+1]
			i += 2
			switch e {
			case '\\', '"':
				b.WriteByte(e)
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case ' ':
				b.WriteByte(' ')
			case 'x', 'u', 'U':
				n := 2 // hex digits: \xhh, \uhhhh, \Uhhhhhhhh
				switch e {
				case 'u':
					n = 4
				case 'U':
					n = 8
				}
				if i+n > len(t) {
					return "", false
				}
				r, err := strconv.ParseUint(t[i:i+n], 16, 32)
				if err != nil {
					return "", false
				}
				if !utf8.ValidRune(rune(r)) {
					return "", false
				}
				b.WriteRune(rune(r)) // \xe9 is the code point, as \u00e9
				i += n
			default:
				return "", false
			}
			continue
		}
		b.WriteByte(c)
		i++
	}
	return "", false // continues on the next line
}

// afterQuoted checks what follows a closing quote: blanks, then a comment
// or nothing.
func afterQuoted(t string) bool {
	r := strings.TrimLeft(t, " ")
	return r == "" || r[0] == '#' && len(r) < len(t)
}

// newScalar makes a scalar node with go-yaml's tag for its text and
// style: a string when quoted or a block, or a plain text that begins
// with a letter and is longer than any word go-yaml resolves (false,
// null, …); go-yaml's own resolution otherwise.
func (p *fparser) newScalar(v string, style yaml.Style, line, col int) *yaml.Node {
	n := p.node()
	*n = yaml.Node{Kind: yaml.ScalarNode, Style: style, Value: v, Line: line, Column: col}
	switch {
	case style != 0, len(v) > 5 && ('a' <= v[0] && v[0] <= 'z' || 'A' <= v[0] && v[0] <= 'Z'):
		n.Tag = "!!str"
	default:
		n.Tag = n.ShortTag()
	}
	return n
}

// node hands out nodes from chunks (a rule has a few hundred; one
// allocation each was most of the reading).
func (p *fparser) node() *yaml.Node {
	if len(p.slab) == 0 {
		p.slab = make([]yaml.Node, 64)
	}
	n := &p.slab[0]
	p.slab = p.slab[1:]
	return n
}

// printable reports whether s holds only what YAML reads as text or line
// breaks the way this reader splits lines: no tabs, carriage returns,
// control characters, byte order marks or the line breaks of Unicode.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' || c == 0x7f {
			return false
		}
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff
	}) < 0
}
