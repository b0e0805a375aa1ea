// Package sqlexport compiles spoor's single-event rules — built-in and
// user rules written in expr, and Sigma rules — into SQL over the store's
// Hive layout (events/source=…/part-….parquet: typed columns plus the raw
// fields as JSON text), for DuckDB, Spark SQL and Trino/Athena, so the
// detections can run where the data already is.
//
// A rule is exported only when its SQL means exactly what spoor's matcher
// means; everything else (stateful rules, helpers without a faithful SQL
// form) is listed with the reason, never dropped silently.
package sqlexport

import (
	"fmt"
	"strconv"
	"strings"
)

// Dialect is one SQL engine's spelling of the operations the rules need.
type Dialect string

// The dialects spoor exports.
const (
	DuckDB Dialect = "duckdb"
	Spark  Dialect = "spark"
	Trino  Dialect = "trino"
)

// Dialects lists the dialects in a fixed order.
var Dialects = []Dialect{DuckDB, Spark, Trino}

// ParseDialect checks a dialect name.
func ParseDialect(s string) (Dialect, error) {
	for _, d := range Dialects {
		if string(d) == strings.ToLower(s) {
			return d, nil
		}
	}
	return "", fmt.Errorf("unknown SQL dialect %q (known: duckdb, spark, trino)", s)
}

// str quotes a string literal.
func (d Dialect) str(s string) string {
	if d == Spark {
		// Spark SQL reads backslash escapes inside literals.
		s = strings.ReplaceAll(s, `\`, `\\`)
		return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// ident quotes a column name (user, offset, time are reserved somewhere).
func (d Dialect) ident(s string) string {
	if d == Spark {
		return "`" + s + "`"
	}
	return `"` + s + `"`
}

// strpos is the 1-based position of needle in hay, 0 when absent.
func (d Dialect) strpos(hay, needle string) string {
	if d == Spark {
		return "instr(" + hay + ", " + needle + ")"
	}
	return "strpos(" + hay + ", " + needle + ")"
}

// contains is a case-sensitive substring test.
func (d Dialect) contains(hay, needle string) string {
	return d.strpos(hay, needle) + " > 0"
}

// regex is an unanchored regular-expression search (RE2 syntax; the
// patterns spoor exports use the part all three engines share).
func (d Dialect) regex(s, pattern string) string {
	switch d {
	case Spark:
		return s + " RLIKE " + d.str(pattern)
	case Trino:
		return "regexp_like(" + s + ", " + d.str(pattern) + ")"
	}
	return "regexp_matches(" + s + ", " + d.str(pattern) + ")"
}

// like matches a LIKE pattern whose escape character is '!'.
func (d Dialect) like(s, pattern string) string {
	return s + " LIKE " + d.str(pattern) + " ESCAPE '!'"
}

// jsonPath is the path to a top-level key.
func (d Dialect) jsonPath(name string) string {
	switch d {
	case Spark:
		return "$['" + name + "']"
	case Trino:
		return `$["` + name + `"]`
	}
	return `$."` + name + `"`
}

// jsonField is the raw field as text, NULL when absent. The store writes
// "" for events without raw fields, which is not JSON.
func (d Dialect) jsonField(name string) string {
	f := "nullif(" + d.ident("fields") + ", '')"
	p := d.str(d.jsonPath(name))
	switch d {
	case Spark:
		return "get_json_object(" + f + ", " + p + ")"
	case Trino:
		return "json_extract_scalar(" + f + ", " + p + ")"
	}
	return "json_extract_string(" + f + ", " + p + ")"
}

// jsonHas tells whether the raw field exists.
func (d Dialect) jsonHas(name string) string {
	f := "nullif(" + d.ident("fields") + ", '')"
	p := d.str(d.jsonPath(name))
	switch d {
	case Spark:
		return "get_json_object(" + f + ", " + p + ") IS NOT NULL"
	case Trino:
		return "json_extract(" + f + ", " + p + ") IS NOT NULL"
	}
	return "json_exists(" + f + ", " + p + ")"
}

// timeCol is the event time as the engine's timestamp. spoor writes
// microsecond UTC timestamps: DuckDB reads them as TIMESTAMPTZ, Spark as
// a timestamp (shown in the session zone, UTC), Trino's Hive connector as
// a timestamp without zone holding UTC.
func (d Dialect) timeCol() string { return d.ident("time") }

// localTime converts a UTC time (from timeCol) to the wall clock of zone.
// Spark's from_utc_timestamp gives that wall clock when the session time
// zone is UTC (spark.sql.session.timeZone=UTC), which the export asks for.
func (d Dialect) localTime(t, zone string) string {
	switch d {
	case Spark:
		return "from_utc_timestamp(" + t + ", " + d.str(zone) + ")"
	case Trino:
		return "(with_timezone(" + t + ", 'UTC') AT TIME ZONE " + d.str(zone) + ")"
	}
	return "timezone(" + d.str(zone) + ", " + t + ")"
}

// isoDOW is the ISO day of the week (1 = Monday … 7 = Sunday) of a local time.
func (d Dialect) isoDOW(t string) string {
	switch d {
	case Spark:
		return "((dayofweek(" + t + ") + 5) % 7 + 1)"
	case Trino:
		return "day_of_week(" + t + ")"
	}
	return "isodow(" + t + ")"
}

// minuteOfDay is hour*60+minute of a local time.
func (d Dialect) minuteOfDay(t string) string {
	return "(hour(" + t + ") * 60 + minute(" + t + "))"
}

// dateText is the YYYY-MM-DD date of a local time.
func (d Dialect) dateText(t string) string {
	switch d {
	case Spark:
		return "date_format(" + t + ", 'yyyy-MM-dd')"
	case Trino:
		return "format_datetime(" + t + ", 'yyyy-MM-dd')"
	}
	return "strftime(" + t + ", '%Y-%m-%d')"
}

// intText renders an integer column as text (Sigma compares EventID as a string).
func (d Dialect) intText(x string) string {
	if d == Spark {
		return "cast(" + x + " AS string)"
	}
	return "cast(" + x + " AS varchar)"
}

// Preamble is what the session needs before the queries run.
func (d Dialect) Preamble() string {
	if d == Spark {
		return "SET spark.sql.session.timeZone = UTC;\n"
	}
	return ""
}

// Events is the table expression over a store's events for the dialect:
// a path glob for DuckDB and Spark, a table name for Trino (which needs
// the store registered as an external table; see the README).
func (d Dialect) Events(store string) string {
	store = strings.TrimRight(store, "/")
	switch d {
	case Spark:
		return "parquet.`" + store + "/events`"
	case Trino:
		if store == "" {
			return "events"
		}
		return store
	}
	return "read_parquet(" + d.str(store+"/events/**/*.parquet") + ", hive_partitioning = true)"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
