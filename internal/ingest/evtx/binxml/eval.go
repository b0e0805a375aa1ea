package binxml

import (
	"errors"
	"strconv"
	"strings"
)

// walker turns a parsed record (template nodes + values) into a Record.
type walker struct {
	c   *chunkCtx
	rec *Record
	// unnamed counts unnamed <Data> elements for Data, Data_2, …
	unnamed int
	// depth and budget bound the expansion of template instances: hostile
	// templates can refer to themselves or fan out exponentially.
	depth  int
	budget int
}

// maxVisits bounds the element visits of one record.
const maxVisits = 1 << 16

// errExpansion aborts a record whose templates expand without bound.
var errExpansion = errors.New("binxml: template expansion too deep or too large")

// lookup returns the substitution value for n, or a null value when the
// index is out of range (damaged records: the slot renders empty).
func lookup(vals []value, n *node) value {
	if int(n.sub) < len(vals) {
		return vals[n.sub]
	}
	return value{}
}

// nested parses a BinXML substitution value (type 0x21). Its elements omit
// the dependency identifier in most files; try that first, then the other.
func (w *walker) nested(v value) []node {
	c := w.c
	if c.depth > maxDepth {
		return nil
	}
	base := int(v.off)
	if base < 0 || base+int(v.size) > len(c.data) {
		return nil
	}
	for i, at := range c.nestedAt {
		if at == base {
			return c.nestedNodes[i]
		}
	}
	nodes := w.parseNested(v, base)
	c.nestedAt = append(c.nestedAt, base)
	c.nestedNodes = append(c.nestedNodes, nodes)
	return nodes
}

func (w *walker) parseNested(v value, base int) []node {
	c := w.c
	c.depth++
	defer func() { c.depth-- }()
	r := reader{c: c, pos: base, end: base + int(v.size), depID: false}
	nodes, err := r.fragment()
	if err != nil {
		r = reader{c: c, pos: base, end: base + int(v.size), depID: true}
		if n2, err2 := r.fragment(); err2 == nil {
			return n2
		}
	}
	return nodes
}

// elems calls f for each element of content, expanding template instances
// and BinXML substitution values in place.
func (w *walker) elems(content []node, vals []value, f func(e *node, vals []value)) {
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxDepth {
		panic(errExpansion)
	}
	for i := range content {
		n := &content[i]
		w.budget--
		if w.budget < 0 {
			panic(errExpansion)
		}
		switch n.kind {
		case nElement:
			f(n, vals)
		case nTemplate:
			w.elems(n.tmpl.nodes, n.vals, f)
		case nSubst:
			if v := lookup(vals, n); v.typ == vtBinXML {
				w.elems(w.nested(v), nil, f)
			}
		}
	}
}

// hasElems reports whether content holds child elements (after expansion).
func hasElems(content []node, vals []value) bool {
	for i := range content {
		n := &content[i]
		switch n.kind {
		case nElement, nTemplate:
			return true
		case nSubst:
			if lookup(vals, n).typ == vtBinXML {
				return true
			}
		}
	}
	return false
}

// single returns the one substitution value of content, if that is all it is.
func single(content []node, vals []value) (value, bool) {
	if len(content) == 1 && content[0].kind == nSubst {
		return lookup(vals, &content[0]), true
	}
	return value{}, false
}

// text renders content as text (arrays joined by newlines).
func (w *walker) text(content []node, vals []value) string {
	switch len(content) {
	case 0:
		return ""
	case 1:
		n := &content[0]
		switch n.kind {
		case nText:
			return n.text
		case nSubst:
			return w.valueText(lookup(vals, n))
		}
	}
	var sb strings.Builder
	for i := range content {
		n := &content[i]
		switch n.kind {
		case nText:
			sb.WriteString(n.text)
		case nSubst:
			sb.WriteString(w.valueText(lookup(vals, n)))
		case nElement, nTemplate:
			w.xml(&sb, content[i:i+1], vals)
		}
	}
	return sb.String()
}

func (w *walker) valueText(v value) string {
	if v.typ == vtBinXML {
		var sb strings.Builder
		w.xml(&sb, w.nested(v), nil)
		return sb.String()
	}
	switch x := w.c.rendered(v).(type) {
	case string:
		return x
	case []string:
		return strings.Join(x, "\n")
	}
	return ""
}

// xml renders elements as compact XML text, for the rare element nested
// where a plain value was expected.
func (w *walker) xml(sb *strings.Builder, content []node, vals []value) {
	w.elems(content, vals, func(e *node, vals []value) {
		sb.WriteByte('<')
		sb.WriteString(e.name)
		for i := range e.attrs {
			sb.WriteByte(' ')
			sb.WriteString(e.attrs[i].name)
			sb.WriteString(`="`)
			sb.WriteString(w.text(e.attrs[i].value, vals))
			sb.WriteByte('"')
		}
		sb.WriteByte('>')
		if hasElems(e.children, vals) {
			w.xml(sb, e.children, vals)
		} else {
			sb.WriteString(w.text(e.children, vals))
		}
		sb.WriteString("</")
		sb.WriteString(e.name)
		sb.WriteByte('>')
	})
}

// value renders an element's content as a field value: a plain value, an
// array, or nested fields when the element holds elements.
func (w *walker) value(e *node, vals []value) any {
	if v, ok := single(e.children, vals); ok {
		if v.typ == vtBinXML {
			return w.fieldsOf(w.nested(v), nil, true)
		}
		return w.c.rendered(v)
	}
	if hasElems(e.children, vals) {
		return w.fieldsOf(e.children, vals, true)
	}
	return w.text(e.children, vals)
}

func (w *walker) attrText(e *node, name string, vals []value) (string, bool) {
	for i := range e.attrs {
		if e.attrs[i].name == name {
			return w.text(e.attrs[i].value, vals), true
		}
	}
	return "", false
}

func (w *walker) attrNum(e *node, name string, vals []value) (uint64, bool) {
	for i := range e.attrs {
		if e.attrs[i].name == name {
			return w.num(e.attrs[i].value, vals)
		}
	}
	return 0, false
}

func (w *walker) num(content []node, vals []value) (uint64, bool) {
	if v, ok := single(content, vals); ok {
		if n, ok := uintOf(w.c.raw(v)); ok {
			return n, true
		}
	}
	s := strings.TrimSpace(w.text(content, vals))
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(s, 0, 64); err == nil {
		return n, true
	}
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return uint64(n), true
	}
	return 0, false
}

// event fills w.rec from a record's top-level nodes.
func (w *walker) event(top []node, vals []value) {
	w.elems(top, vals, func(root *node, vals []value) {
		if root.name != "Event" {
			// Not an event document: keep what it says as fields.
			w.rec.Fields = append(w.rec.Fields, Field{Name: root.name, Value: w.value(root, vals)})
			return
		}
		w.elems(root.children, vals, func(sec *node, vals []value) {
			switch sec.name {
			case "System":
				w.system(sec, vals)
			case "EventData":
				w.eventData(sec, vals)
			case "UserData":
				w.elems(sec.children, vals, func(r *node, vals []value) {
					// The root's attributes (version="2.21.0", …) are data too.
					for i := range r.attrs {
						if !strings.HasPrefix(r.attrs[i].name, "xmlns") {
							w.add(r.attrs[i].name, w.text(r.attrs[i].value, vals))
						}
					}
					w.appendFields(r.children, vals)
				})
			case "RenderingInfo":
				w.elems(sec.children, vals, func(e *node, vals []value) {
					if e.name == "Message" {
						w.rec.Message = w.text(e.children, vals)
					}
				})
			default:
				// ProcessingErrorData, DebugData, BinaryEventData, …
				if hasElems(sec.children, vals) {
					w.appendFields(sec.children, vals)
				} else {
					w.add(sec.name, w.value(sec, vals))
				}
			}
		})
	})
}

func (w *walker) system(sys *node, vals []value) {
	r := w.rec
	w.elems(sys.children, vals, func(e *node, vals []value) {
		switch e.name {
		case "Provider":
			r.Provider, _ = w.attrText(e, "Name", vals)
			r.ProviderGUID, _ = w.attrText(e, "Guid", vals)
			r.EventSourceName, _ = w.attrText(e, "EventSourceName", vals)
		case "EventID":
			n, _ := w.num(e.children, vals)
			r.EventID = int32(n)
			if q, ok := w.attrNum(e, "Qualifiers", vals); ok {
				r.Qualifiers = int32(q)
			}
		case "Version":
			n, _ := w.num(e.children, vals)
			r.Version = int32(n)
		case "Level":
			n, _ := w.num(e.children, vals)
			r.Level = int32(n)
		case "Task":
			n, _ := w.num(e.children, vals)
			r.Task = int32(n)
		case "Opcode":
			n, _ := w.num(e.children, vals)
			r.Opcode = int32(n)
		case "Keywords":
			r.Keywords = w.text(e.children, vals)
		case "TimeCreated":
			for i := range e.attrs {
				if e.attrs[i].name != "SystemTime" {
					continue
				}
				if v, ok := single(e.attrs[i].value, vals); ok {
					if t, ok := timeOf(w.c.raw(v)); ok {
						r.Time = t
						continue
					}
				}
				if t, ok := parseTime(w.text(e.attrs[i].value, vals)); ok {
					r.Time = t
				}
			}
		case "EventRecordID":
			if n, ok := w.num(e.children, vals); ok {
				r.RecordID = n
			}
		case "Correlation":
			r.ActivityID, _ = w.attrText(e, "ActivityID", vals)
			r.RelatedActivity, _ = w.attrText(e, "RelatedActivityID", vals)
		case "Execution":
			n, _ := w.attrNum(e, "ProcessID", vals)
			r.ProcessID = uint32(n)
			n, _ = w.attrNum(e, "ThreadID", vals)
			r.ThreadID = uint32(n)
		case "Channel":
			r.Channel = w.text(e.children, vals)
		case "Computer":
			r.Computer = w.text(e.children, vals)
		case "Security":
			r.UserID, _ = w.attrText(e, "UserID", vals)
		}
	})
}

func (w *walker) eventData(ed *node, vals []value) {
	// EventData's own attributes (a Name on some classic events) are data too.
	for i := range ed.attrs {
		if !strings.HasPrefix(ed.attrs[i].name, "xmlns") {
			w.add(ed.attrs[i].name, w.text(ed.attrs[i].value, vals))
		}
	}
	w.elems(ed.children, vals, func(e *node, vals []value) {
		name := e.name
		if name == "Data" {
			if n, ok := w.attrText(e, "Name", vals); ok && n != "" {
				name = n
			} else {
				w.unnamed++
				if w.unnamed > 1 {
					name = "Data_" + strconv.Itoa(w.unnamed)
				}
			}
		}
		w.add(name, w.value(e, vals))
	})
}

// appendFields adds each child element of content as a field.
func (w *walker) appendFields(content []node, vals []value) {
	w.rec.Fields = w.collect(w.rec.Fields, content, vals, false)
}

// fieldsOf returns the child elements of content as fields (a new slice,
// for nested values).
func (w *walker) fieldsOf(content []node, vals []value, _ bool) []Field {
	return w.collect(nil, content, vals, true)
}

func (w *walker) collect(dst []Field, content []node, vals []value, _ bool) []Field {
	w.elems(content, vals, func(e *node, vals []value) {
		name := e.name
		if name == "Data" {
			if n, ok := w.attrText(e, "Name", vals); ok && n != "" {
				name = n
			}
		}
		var v any
		if hasElems(e.children, vals) || (len(e.children) == 1 && e.children[0].kind == nSubst && lookup(vals, &e.children[0]).typ == vtBinXML) {
			v = w.value(e, vals)
		} else if len(e.attrs) > 0 && !(len(e.attrs) == 1 && e.attrs[0].name == "Name") && len(e.children) == 0 {
			// An empty element that only carries attributes: keep them.
			var sub []Field
			for i := range e.attrs {
				if strings.HasPrefix(e.attrs[i].name, "xmlns") {
					continue
				}
				sub = append(sub, Field{Name: e.attrs[i].name, Value: w.text(e.attrs[i].value, vals)})
			}
			v = sub
		} else {
			v = w.value(e, vals)
		}
		dst = addUnique(dst, name, v)
	})
	return dst
}

func (w *walker) add(name string, v any) {
	w.rec.Fields = addUnique(w.rec.Fields, name, v)
}

// addUnique appends name=v, renaming repeated names to name_2, name_3, …
// so that no value is lost when fields become a dictionary.
func addUnique(dst []Field, name string, v any) []Field {
	if has(dst, name) {
		for i := 2; ; i++ {
			n := name + "_" + strconv.Itoa(i)
			if !has(dst, n) {
				name = n
				break
			}
		}
	}
	return append(dst, Field{Name: name, Value: v})
}

func has(fs []Field, name string) bool {
	for i := range fs {
		if fs[i].Name == name {
			return true
		}
	}
	return false
}
