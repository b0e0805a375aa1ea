package sigma

import (
	"bytes"
	"hash/maphash"
	"sync/atomic"
	"unsafe"

	"github.com/spoor-dfir/spoor/internal/asciifold"
)

// Long values (PowerShell script blocks, encoded command lines) are tested
// by many rules in a row, each with several substrings. For those, the
// lower-cased copy and a bigram bitmap are computed once and shared:
// a pattern whose bigrams are not all in the value cannot occur in it, so
// most substring scans are skipped.
//
// The cache is keyed by the string's identity (data pointer and length):
// an entry keeps its string alive, so no other string can occupy that
// memory while the entry exists, and Go strings are immutable. As a guard
// against strings built with unsafe over reused buffers (some readers do
// that), a hit must also have the same content hash; hashing is several
// times cheaper than lower-casing and scanning again.

// longValue is the length from which values go through the cache.
const longValue = 512

type lowered struct {
	s     string
	hash  uint64
	lower []byte
	bits  [1024]uint64 // 65536 bigrams of lower-cased bytes
}

var (
	loweredCache [128]atomic.Pointer[lowered]
	hashSeed     = maphash.MakeSeed()
)

func bigram(a, b byte) uint16 { return uint16(a)<<8 | uint16(b) }

// lowerLong returns the shared lower-cased form of s (len(s) >= longValue).
func lowerLong(s string) *lowered {
	p := unsafe.StringData(s)
	slot := &loweredCache[(uintptr(unsafe.Pointer(p))>>4^uintptr(len(s)))%uintptr(len(loweredCache))]
	h := maphash.String(hashSeed, s)
	if e := slot.Load(); e != nil && unsafe.StringData(e.s) == p && len(e.s) == len(s) && e.hash == h {
		return e
	}
	e := &lowered{s: s, hash: h, lower: make([]byte, len(s))}
	var prev byte
	for i := 0; i < len(s); i++ {
		c := asciifold.Lower(s[i])
		e.lower[i] = c
		if i > 0 {
			g := bigram(prev, c)
			e.bits[g>>6] |= 1 << (g & 63)
		}
		prev = c
	}
	slot.Store(e)
	return e
}

// contains reports whether the lower-cased value holds p (lower-case).
func (e *lowered) contains(p []byte) bool {
	for i := 1; i < len(p); i++ {
		g := bigram(p[i-1], p[i])
		if e.bits[g>>6]&(1<<(g&63)) == 0 {
			return false
		}
	}
	return bytes.Contains(e.lower, p)
}
