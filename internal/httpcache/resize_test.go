package httpcache

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edgeward/edgeward/internal/size"
)

// A reloaded cache section applies to the running store: a smaller
// max_size evicts down to it, and max_object_size bounds what is stored
// next, while the objects that still fit stay.
func TestStore_ResizeAppliesReloadedBounds(t *testing.T) {
	t.Parallel()
	s, c, clock := newCache(t, honest(), StoreConfig{MaxSize: 4 * size.MiB, MaxObjectSize: 64 * size.KiB})
	body := strings.Repeat("x", 32<<10)
	o := newOrigin(t, clock, fixed(200, body, "Cache-Control: max-age=600"))
	for i := range 64 {
		serve(t, c, o, "GET", fmt.Sprintf("/obj/%d", i))
	}
	if got := s.Size(); got < int64(size.MiB) {
		t.Fatalf("Size before Resize = %d, want the 2MiB written", got)
	}
	if err := s.Resize(StoreConfig{MaxSize: 256 * size.KiB, MaxObjectSize: 16 * size.KiB}); err != nil {
		t.Fatal(err)
	}
	if got := s.Limits(); got.MaxSize != 256*size.KiB || got.MaxObjectSize != 16*size.KiB {
		t.Errorf("Limits after Resize = %+v", got)
	}
	s.cache.CleanUp()
	if got := s.Size(); got > int64(256*size.KiB) {
		t.Errorf("Size after Resize to 256KiB = %d, want at most 256KiB", got)
	}
	before := o.count()
	serve(t, c, o, "GET", "/fresh")
	serve(t, c, o, "GET", "/fresh")
	if got := o.count() - before; got != 2 {
		t.Errorf("a 32KiB object under max_object_size 16KiB reached the origin %d times for 2 requests, want 2 (not stored)", got)
	}
	if err := s.Resize(StoreConfig{MaxSize: -1}); err == nil {
		t.Error("Resize(max_size -1) = nil, want an error")
	}
}
