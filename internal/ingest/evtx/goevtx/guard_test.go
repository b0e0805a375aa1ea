package goevtx

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spoor-dfir/spoor/internal/ingest/evtx/binxml"
	"github.com/spoor-dfir/spoor/internal/testutil"
)

// TestCheckTemplatesRealChunks: the guard must not refuse the chunks of
// real logs (a false alarm costs the fallback for that chunk).
func TestCheckTemplatesRealChunks(t *testing.T) {
	files, _ := filepath.Glob("../../../../testdata/evtx/*.evtx")
	if len(files) == 0 {
		t.Fatal("no testdata EVTX files")
	}
	if dir, ok := testutil.SharedPath(t, "samples", "evtx"); ok {
		more, _ := filepath.Glob(filepath.Join(dir, "*", "*.evtx"))
		files = append(files, more...)
	}
	chunks := 0
	for _, fn := range files {
		b, err := os.ReadFile(fn)
		if err != nil {
			t.Fatal(err)
		}
		for off := binxml.FileHeaderSize; off+binxml.ChunkSize <= len(b); off += binxml.ChunkSize {
			c := b[off : off+binxml.ChunkSize]
			if !binxml.HasChunkMagic(c) {
				continue
			}
			chunks++
			if err := checkTemplates(c); err != nil {
				t.Errorf("%s@%d: %v", filepath.Base(fn), off, err)
			}
		}
	}
	if chunks == 0 {
		t.Fatal("no chunks checked")
	}
}

// defAt writes a template definition at off whose body holds instances
// (with no values) of the definitions at refs, and returns the offset
// after it.
func defAt(c []byte, off int, refs ...int) int {
	body := []byte{0x0f, 1, 1, 0}
	for _, r := range refs {
		ti := make([]byte, 14) // token, unknown, id, data offset, no values
		ti[0], ti[1] = 0x0c, 1
		binary.LittleEndian.PutUint32(ti[6:], uint32(r))
		body = append(body, ti...)
	}
	body = append(body, 0) // EOF token
	binary.LittleEndian.PutUint32(c[off+20:], uint32(len(body)))
	copy(c[off+24:], body)
	return off + 24 + len(body)
}

// chunkWith returns an empty chunk whose template table's first head is root.
func chunkWith(root int) []byte {
	c := make([]byte, binxml.ChunkSize)
	binary.LittleEndian.PutUint32(c[templateTableAt:], uint32(root))
	return c
}

func TestCheckTemplates(t *testing.T) {
	t.Run("self", func(t *testing.T) {
		c := chunkWith(1000)
		defAt(c, 1000, 1000)
		if err := checkTemplates(c); !errors.Is(err, ErrTemplateCycle) {
			t.Fatalf("self reference not caught: %v", err)
		}
	})
	t.Run("two-cycle", func(t *testing.T) {
		c := chunkWith(1000)
		defAt(c, 1000, 2000)
		defAt(c, 2000, 1000)
		if err := checkTemplates(c); !errors.Is(err, ErrTemplateCycle) {
			t.Fatalf("cycle of two not caught: %v", err)
		}
	})
	t.Run("chain", func(t *testing.T) {
		c := chunkWith(1000)
		defAt(c, 1000, 2000)
		defAt(c, 2000, 3000)
		defAt(c, 3000)
		if err := checkTemplates(c); err != nil {
			t.Fatalf("acyclic chain refused: %v", err)
		}
	})
	t.Run("diamond", func(t *testing.T) {
		// 20 definitions each using the next one twice: 2^20 parses.
		c := chunkWith(1000)
		for i := 0; i < 20; i++ {
			defAt(c, 1000+i*100, 1000+(i+1)*100, 1000+(i+1)*100)
		}
		defAt(c, 1000+20*100)
		if err := checkTemplates(c); !errors.Is(err, ErrTemplateCycle) {
			t.Fatalf("exponential expansion not caught: %v", err)
		}
	})
}
