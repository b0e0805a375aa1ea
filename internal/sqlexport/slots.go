package sqlexport

import (
	"strconv"
	"strings"
)

// slots are the raw fields the exported rules read. Each is extracted
// from the fields JSON once per row, in a projection under the rule
// predicates, instead of once per use: thousands of Sigma rules read the
// same few hundred fields, and an expression per use makes a query that
// engines cannot plan.
//
// Per slot i the projection has
//
//	_f<i>, _h<i>   the top-level value ("" when absent) and whether it
//	               exists: spoor's field() and has_field()
//	_v<i>, _l<i>, _p<i>
//	               Sigma's reading (top level, else one level down in
//	               objects of at most three keys), its lower case, and
//	               whether it exists
type slots struct {
	names []string
	index map[string]int
	deep  map[int]bool // slots Sigma reads
	// renames are Sigma fields whose raw name depends on the logsource
	// source (CASE expressions over the slots), as _rv<k>, _rl<k>, _rp<k>.
	renames []getter
	rindex  map[getter]int
}

func newSlots() *slots {
	return &slots{index: map[string]int{}, deep: map[int]bool{}, rindex: map[getter]int{}}
}

// renamed returns the projection columns of a per-source field reading.
func (s *slots) renamed(d Dialect, g getter) getter {
	k, ok := s.rindex[g]
	if !ok {
		k = len(s.renames)
		s.rindex[g] = k
		s.renames = append(s.renames, g)
	}
	return getter{v: col(d, "_rv", k), l: col(d, "_rl", k), p: col(d, "_rp", k)}
}

func (s *slots) slot(name string) int {
	i, ok := s.index[name]
	if !ok {
		i = len(s.names)
		s.index[name] = i
		s.names = append(s.names, name)
	}
	return i
}

func col(d Dialect, prefix string, i int) string { return d.ident(prefix + strconv.Itoa(i)) }

// top returns spoor's field(name) and has_field(name) as columns.
func (s *slots) top(d Dialect, name string) (value, has string) {
	i := s.slot(name)
	return col(d, "_f", i), col(d, "_h", i)
}

// sigma returns Sigma's reading of a raw field as columns.
func (s *slots) sigma(d Dialect, name string) getter {
	i := s.slot(name)
	s.deep[i] = true
	return getter{v: col(d, "_v", i), l: col(d, "_l", i), p: col(d, "_p", i)}
}

// from wraps the events table in the projections the predicates read.
func (s *slots) from(d Dialect, events string) string {
	if len(s.names) == 0 && len(s.renames) == 0 {
		return events + " ev"
	}
	f := "nullif(" + d.ident("fields") + ", '')"
	var l0, l1, l2 []string
	switch d {
	case Spark:
		l0 = append(l0, "coalesce(size(json_object_keys("+f+")) <= 3, FALSE) AS _small")
	case Trino:
		l0 = append(l0, "coalesce(cardinality(map_keys(cast(json_parse("+f+") AS map(varchar, json)))) <= 3, FALSE) AS _small")
	default:
		paths := make([]string, len(s.names))
		for i, n := range s.names {
			paths[i] = d.str(d.jsonPath(n))
		}
		// One parse of the JSON per row for every top-level field.
		l0 = append(l0, "json_extract("+f+", ["+strings.Join(paths, ", ")+"]) AS _j",
			"coalesce(len(json_keys("+f+")) <= 3, FALSE) AS _small")
	}
	for i, n := range s.names {
		var top, has string
		switch d {
		case DuckDB:
			j := "_j[" + strconv.Itoa(i+1) + "]"
			top, has = j+" ->> '$'", j+" IS NOT NULL"
		default:
			top = d.jsonField(n)
			has = d.jsonHas(n)
		}
		l1 = append(l1, "coalesce("+top+", '') AS "+col(d, "_f", i), "coalesce("+has+", FALSE) AS "+col(d, "_h", i))
		if s.deep[i] {
			l1 = append(l1, "CASE WHEN _small THEN "+nested(d, f, n)+" END AS "+col(d, "_n", i))
			v := "(CASE WHEN " + col(d, "_h", i) + " THEN " + col(d, "_f", i) + " ELSE coalesce(" + col(d, "_n", i) + ", '') END)"
			l2 = append(l2, v+" AS "+col(d, "_v", i), "lower("+v+") AS "+col(d, "_l", i),
				"("+col(d, "_h", i)+" OR "+col(d, "_n", i)+" IS NOT NULL) AS "+col(d, "_p", i))
		}
	}
	q := events + " ev"
	if len(s.names) > 0 {
		q = "(SELECT *, " + strings.Join(l0, ", ") + " FROM " + events + ") e0"
		q = "(SELECT *, " + strings.Join(l1, ",\n    ") + "\n  FROM " + q + ") e1"
	}
	if len(l2) > 0 {
		q = "(SELECT *, " + strings.Join(l2, ",\n    ") + "\n  FROM " + q + ") e2"
	}
	if len(s.renames) > 0 {
		var l3 []string
		for k, g := range s.renames {
			l3 = append(l3, g.v+" AS "+col(d, "_rv", k), g.l+" AS "+col(d, "_rl", k), g.p+" AS "+col(d, "_rp", k))
		}
		q = "(SELECT *, " + strings.Join(l3, ",\n    ") + "\n  FROM " + q + ") e3"
	}
	return q
}

// nested is the text of the first value called name one level down, or
// NULL.
func nested(d Dialect, f, name string) string {
	switch d {
	case Spark:
		return "filter(transform(json_object_keys(" + f + "), k -> get_json_object(" + f + ", concat('$[\\'', k, '\\'][\\'" + name + "\\']'))), x -> x IS NOT NULL)[0]"
	case Trino:
		return "json_extract_scalar(json_query(" + f + ", 'lax $.*.\"" + name + "\"' WITH ARRAY WRAPPER), '$[0]')"
	}
	return "(json_extract(" + f + ", " + d.str(`$.*."`+name+`"`) + "))[1] ->> '$'"
}
