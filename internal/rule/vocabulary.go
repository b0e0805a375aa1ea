package rule

import (
	"reflect"
	"strings"
)

// Column is one event column a condition (or spoor query) can read.
type Column struct {
	Name, Type string
}

// Columns lists the event columns of conditions, read from the condition
// environment itself so the list cannot drift from what compiles.
func Columns() []Column {
	var out []Column
	for _, f := range reflect.VisibleFields(reflect.TypeOf(env{})) {
		name := f.Tag.Get("expr")
		// Functions are helpers; names starting with "__" are the
		// engine's own (the evaluation budget), not columns.
		if name == "" || f.Type.Kind() == reflect.Func || strings.HasPrefix(name, "__") {
			continue
		}
		typ := f.Type.String()
		if typ == "time.Time" {
			typ = "time"
		}
		out = append(out, Column{name, typ})
	}
	return out
}

// Helper is one function a condition can call.
type Helper struct {
	Usage, Doc string
}

// Helpers lists the helper functions of conditions, with an example call
// each (a test compiles every example, so the list stays true).
func Helpers() []Helper {
	return []Helper{
		{`field("TargetUserName")`, "a raw field of the record (EVTX EventData, a log's own key), \"\" if absent"},
		{`has_field("TargetUserName")`, "whether the record has the raw field"},
		{"business_hours(time)", "inside the case's business hours (case zone, holidays excluded)"},
		{"weekend(time)", "on a day that is not a business day"},
		{"holiday(time)", "on a holiday of the case"},
		{"hour(time)", "hour 0–23 in the case zone"},
		{"weekday(time)", "mon … sun in the case zone"},
		{"local_time(time)", "the time in the case zone, as text"},
		{"provider(user)", "the account matches a provider's account patterns"},
		{"provider_ip(src_ip)", "the address is in a provider's networks"},
		{"provider_operator(operator)", "the RMM operator belongs to a provider"},
		{"provider_name(user)", "the provider an account, operator or address belongs to, \"\" if none"},
		{"internal(dst_ip)", "the address is in the case's internal networks"},
		{"external(dst_ip)", "the address parses and is not internal"},
		{`privileged(field("TargetUserName"))`, "the group is privileged (case list, well-known SIDs)"},
		{`cidr(src_ip, "10.0.0.0/8")`, "the address lies in the network"},
		{`re(command_line, "(?i)net\\s+user")`, "regular expression match (RE2)"},
		{`b64("bmV0")`, "base64-decoded text"},
		{`utf16("")`, "UTF-16LE-decoded text"},
		{"decode_ps(command_line)", "the script of powershell -EncodedCommand"},
		{"basename(process)", "a path's file name"},
		{"short(command_line, 80)", "text cut to n characters"},
		{`icontains(command_line, "whoami")`, "case-insensitive substring"},
		{`contains_any(command_line, ["whoami", "nltest"])`, "case-insensitive substring, any of a list"},
		{`starts_with_any(process, ["c:\\windows"])`, "case-insensitive prefix, any of a list"},
		{`ends_with_any(process, ["\\net.exe", "\\net1.exe"])`, "case-insensitive suffix, any of a list"},
	}
}

// Name is the helper's name.
func (h Helper) Name() string {
	if i := strings.IndexByte(h.Usage, '('); i > 0 {
		return h.Usage[:i]
	}
	return h.Usage
}
