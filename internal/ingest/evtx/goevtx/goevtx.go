// Package goevtx wraps github.com/0xrawsec/golang-evtx behind the same
// chunk decoder interface as the project's own decoder (binxml.Decoder).
// It is the reference the fast decoder is checked against, and the
// fallback for records the fast decoder cannot read.
//
// golang-evtx returns each event as a map, so the original order of
// EventData fields is lost: fields come back sorted by name.
package goevtx

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	gevtx "github.com/0xrawsec/golang-evtx/evtx"
	glog "github.com/0xrawsec/golang-utils/log"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
)

// Decoder decodes chunks with golang-evtx. The zero value is ready to use.
type Decoder struct{}

// quiet keeps golang-evtx from logging to stderr: its errors are turned
// into skip counts by the caller instead.
var quiet sync.Once

// mu serialises golang-evtx decoding while the standard logger is muted:
// golang-evtx prints a stack trace through the standard log package for
// every damaged value, which no log level turns off. Other users of the
// standard logger lose their messages during that window (the fallback
// only runs on damaged chunks, so the window is rare and short).
var mu sync.Mutex

// DecodeChunk implements binxml.Decoder.
func (Decoder) DecodeChunk(chunk []byte, chunkOffset int64, out func(*binxml.Record), bad func(binxml.Bad)) (err error) {
	// Checked before anything else: golang-evtx's recursion on a
	// template cycle is a fatal stack overflow, not a recoverable panic.
	if err := checkTemplates(chunk); err != nil {
		return fmt.Errorf("golang-evtx not used on chunk at offset %d: %w", chunkOffset, err)
	}
	quiet.Do(func() { glog.SetLogLevel(glog.LCritical) })
	mu.Lock()
	prev := log.Writer()
	log.SetOutput(io.Discard)
	defer func() {
		log.SetOutput(prev)
		mu.Unlock()
	}()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("golang-evtx: chunk at offset %d: %v", chunkOffset, p)
		}
	}()
	if len(chunk) < binxml.ChunkSize {
		c := make([]byte, binxml.ChunkSize)
		copy(c, chunk)
		chunk = c
	}
	c := gevtx.NewChunk()
	c.Offset = chunkOffset
	c.Data = chunk
	rd := bytes.NewReader(chunk)
	c.ParseChunkHeader(rd)
	if _, err := rd.Seek(int64(c.Header.SizeHeader), io.SeekStart); err != nil {
		return err
	}
	c.ParseStringTable(rd)
	if err := c.ParseTemplateTable(rd); err != nil {
		return fmt.Errorf("golang-evtx: chunk at offset %d: template table: %v", chunkOffset, err)
	}
	if err := c.ParseEventOffsets(rd); err != nil && len(c.EventOffsets) == 0 {
		return fmt.Errorf("golang-evtx: chunk at offset %d: event offsets: %v", chunkOffset, err)
	}
	var rec binxml.Record
	for _, eo := range c.EventOffsets {
		if int64(eo) > int64(c.Header.OffsetLastRec) {
			break
		}
		rec.Reset()
		if err := decodeEvent(&c, int64(eo), &rec); err != nil {
			bad(binxml.Bad{Offset: chunkOffset + int64(eo), RecordID: rec.HeaderID, Reason: "golang-evtx", Err: err})
			continue
		}
		rec.Offset = chunkOffset + int64(eo)
		out(&rec)
	}
	return nil
}

func decodeEvent(c *gevtx.Chunk, off int64, rec *binxml.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("golang-evtx panic: %v", p)
		}
	}()
	e := c.ParseEvent(off)
	rec.HeaderID = uint64(e.Header.ID)
	rec.Written = time.Time(e.Header.Timestamp.Time()).UTC()
	gem, err := e.GoEvtxMap(c)
	if err != nil {
		return err
	}
	if gem == nil {
		return fmt.Errorf("golang-evtx: no event")
	}
	return FromMap(*gem, rec)
}

// FromMap converts a golang-evtx event map into a Record.
func FromMap(m gevtx.GoEvtxMap, rec *binxml.Record) error {
	ev, ok := sub(m, "Event")
	if !ok {
		return fmt.Errorf("golang-evtx: no Event element")
	}
	rec.Decoder = "golang-evtx"
	sys, _ := sub(ev, "System")
	if p, ok := sub(sys, "Provider"); ok {
		rec.Provider = str(p["Name"])
		rec.ProviderGUID = guid(str(p["Guid"]))
		rec.EventSourceName = str(p["EventSourceName"])
	} else {
		// golang-evtx turns an element whose only content is a Name
		// attribute into Name: "" — so <Provider Name="EventLog"/> comes
		// back as System["EventLog"] = "".
		for k, v := range sys {
			if s, ok := v.(string); ok && s == "" && !systemElements[k] {
				rec.Provider = k
			}
		}
	}
	switch v := sys["EventID"].(type) {
	case gevtx.GoEvtxMap:
		rec.EventID = int32(num(v["Value"]))
		rec.Qualifiers = int32(num(v["Qualifiers"]))
	default:
		rec.EventID = int32(num(v))
	}
	rec.Version = int32(num(sys["Version"]))
	rec.Level = int32(num(sys["Level"]))
	rec.Task = int32(num(sys["Task"]))
	rec.Opcode = int32(num(sys["Opcode"]))
	rec.Keywords = str(sys["Keywords"])
	if tc, ok := sub(sys, "TimeCreated"); ok {
		rec.Time = timeOf(tc["SystemTime"])
	}
	rec.RecordID = uint64(num(sys["EventRecordID"]))
	if rec.RecordID == 0 {
		rec.RecordID = rec.HeaderID
	}
	if co, ok := sub(sys, "Correlation"); ok {
		rec.ActivityID = guid(str(co["ActivityID"]))
		rec.RelatedActivity = guid(str(co["RelatedActivityID"]))
	}
	if ex, ok := sub(sys, "Execution"); ok {
		rec.ProcessID = uint32(num(ex["ProcessID"]))
		rec.ThreadID = uint32(num(ex["ThreadID"]))
	}
	rec.Channel = str(sys["Channel"])
	rec.Computer = str(sys["Computer"])
	if se, ok := sub(sys, "Security"); ok {
		rec.UserID = str(se["UserID"])
	}
	if ed, ok := sub(ev, "EventData"); ok {
		rec.Fields = appendSorted(rec.Fields, ed)
	} else if ud, ok := sub(ev, "UserData"); ok {
		for _, k := range sortedKeys(ud) {
			if root, ok := ud[k].(gevtx.GoEvtxMap); ok {
				rec.Fields = appendSorted(rec.Fields, root)
			}
		}
	}
	if ri, ok := sub(ev, "RenderingInfo"); ok {
		rec.Message = str(ri["Message"])
	}
	return nil
}

var systemElements = map[string]bool{
	"Provider": true, "EventID": true, "Version": true, "Level": true, "Task": true,
	"Opcode": true, "Keywords": true, "TimeCreated": true, "EventRecordID": true,
	"Correlation": true, "Execution": true, "Channel": true, "Computer": true, "Security": true,
}

func sub(m gevtx.GoEvtxMap, k string) (gevtx.GoEvtxMap, bool) {
	if m == nil {
		return nil, false
	}
	switch v := m[k].(type) {
	case gevtx.GoEvtxMap:
		return v, true
	case map[string]any:
		return gevtx.GoEvtxMap(v), true
	}
	return nil, false
}

func sortedKeys(m gevtx.GoEvtxMap) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func appendSorted(dst []binxml.Field, m gevtx.GoEvtxMap) []binxml.Field {
	for _, k := range sortedKeys(m) {
		if strings.HasPrefix(k, "xmlns") {
			continue
		}
		dst = append(dst, binxml.Field{Name: k, Value: val(m[k])})
	}
	return dst
}

func val(v any) any {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return x
	case gevtx.GoEvtxMap:
		return appendSorted(nil, x)
	case map[string]any:
		return appendSorted(nil, gevtx.GoEvtxMap(x))
	case time.Time, gevtx.UTCTime:
		return binxml.FormatTime(timeOf(x))
	}
	return fmt.Sprint(v)
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time, gevtx.UTCTime:
		return binxml.FormatTime(timeOf(x))
	}
	return fmt.Sprint(v)
}

func num(v any) int64 {
	s := strings.TrimSpace(str(v))
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return n
	}
	if n, err := strconv.ParseUint(s, 0, 64); err == nil {
		return int64(n)
	}
	return 0
}

func timeOf(v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case gevtx.UTCTime:
		return time.Time(x).UTC()
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// guid puts golang-evtx's bare GUIDs into the braces Windows renders.
func guid(s string) string {
	if s == "" || strings.HasPrefix(s, "{") {
		return s
	}
	return "{" + strings.ToUpper(s) + "}"
}
