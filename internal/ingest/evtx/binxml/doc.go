// Package binxml decodes the chunks of Windows XML Event Log (EVTX) files:
// the 64 KiB chunk, its event records, and the binary XML (BinXML) each
// record carries, straight into a flat Record of System values and ordered
// EventData/UserData fields.
//
// Layout, after libyal's "Windows XML Event Log (EVTX) format":
//
//	file header   4096 bytes, "ElfFile\0"
//	chunk         65536 bytes, "ElfChnk\0", 512-byte header (string and
//	              template offset tables), then event records
//	record        "**\0\0", size u32, record id u64, written FILETIME,
//	              BinXML fragment, copy of size u32
//
// A record's BinXML is almost always a template instance: a reference to a
// template definition (an XML skeleton with numbered substitution slots,
// stored once per chunk) plus the record's substitution values. The fast
// decoder compiles every template once per chunk into a small node tree and
// then only reads each record's value array, so the per-record cost is the
// value conversion and nothing else.
//
// Dirty input is normal in forensics: the decoder never trusts sizes or
// offsets, bounds every read by the chunk, and reports each record it cannot
// decode (with its offset and reason) instead of stopping at it.
package binxml
