package tiffstack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// gray8, gray16 and rgb make pages of pseudo-random pixels, different for each seed.
func gray8(w, h int, seed uint64) *image.Gray {
	r := rand.New(rand.NewPCG(seed, 1))
	m := image.NewGray(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.Uint32())
	}
	return m
}

func gray16(w, h int, seed uint64) *image.Gray16 {
	r := rand.New(rand.NewPCG(seed, 2))
	m := image.NewGray16(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.Uint32())
	}
	return m
}

func rgb(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 3))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = uint8(r.Uint32())
		if i%4 == 3 {
			m.Pix[i] = 0xff
		}
	}
	return m
}

// encode writes pages to a TIFF file in memory.
func encode(t testing.TB, c Compression, pages ...image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, c)
	for _, p := range pages {
		if err := w.WritePage(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(t testing.TB, data []byte) *Stack {
	t.Helper()
	s, err := NewStack(bytes.NewReader(data), int64(len(data)), "test.tif", 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// samePixels reports how got differs from want (same type, bounds from 0, same pixels), or "".
func samePixels(got, want image.Image) string {
	if reflect.TypeOf(got) != reflect.TypeOf(want) {
		return "type " + reflect.TypeOf(got).String() + ", want " + reflect.TypeOf(want).String()
	}
	if got.Bounds() != want.Bounds() {
		return "bounds " + got.Bounds().String() + ", want " + want.Bounds().String()
	}
	var a, b []byte
	switch g := got.(type) {
	case *image.Gray:
		a, b = g.Pix, want.(*image.Gray).Pix
	case *image.Gray16:
		a, b = g.Pix, want.(*image.Gray16).Pix
	case *image.RGBA:
		a, b = g.Pix, want.(*image.RGBA).Pix
	}
	if !bytes.Equal(a, b) {
		return "pixels differ"
	}
	return ""
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []Compression{None, Deflate} {
		// Sizes that give one strip, several strips and a short last strip.
		pages := []image.Image{
			gray8(5, 3, 1), gray8(300, 700, 2), gray16(1, 1, 3), gray16(257, 300, 4),
			rgb(7, 9, 5), rgb(200, 150, 6), gray8(1000, 1, 7), gray16(1, 1000, 8),
		}
		data := encode(t, c, pages...)
		s := open(t, data)
		if s.Len() != len(pages) {
			t.Fatalf("compression %d: %d pages, want %d", c, s.Len(), len(pages))
		}
		for i, want := range pages {
			p := s.Pages[i]
			b := want.Bounds()
			if p.Width != b.Dx() || p.Height != b.Dy() {
				t.Errorf("compression %d page %d: described as %dx%d, want %v", c, i+1, p.Width, p.Height, b.Size())
			}
			got, err := s.Page(i)
			if err != nil {
				t.Fatalf("compression %d page %d: %v", c, i+1, err)
			}
			if d := samePixels(got, want); d != "" {
				t.Errorf("compression %d page %d (%v): %s", c, i+1, p, d)
			}
		}
	}
}

// A sub-image (bounds not at the origin, stride wider than the row) is written as it shows.
func TestWriteSubImage(t *testing.T) {
	big := gray16(40, 30, 9)
	sub := big.SubImage(image.Rect(5, 7, 25, 20)).(*image.Gray16)
	want := image.NewGray16(image.Rect(0, 0, 20, 13))
	for y := range 13 {
		for x := range 20 {
			want.SetGray16(x, y, sub.Gray16At(5+x, 7+y))
		}
	}
	got, err := open(t, encode(t, None, sub)).Page(0)
	if err != nil {
		t.Fatal(err)
	}
	if d := samePixels(got, want); d != "" {
		t.Fatal(d)
	}
}

func TestWriterRefuses(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, None)
	if err := w.Close(); err == nil {
		t.Error("Close accepted a file of no pages")
	}
	w = NewWriter(&buf, None)
	if err := w.WritePage(image.NewNRGBA(image.Rect(0, 0, 2, 2))); err == nil || !strings.Contains(err.Error(), "NRGBA") {
		t.Errorf("NRGBA page: %v", err)
	}
	w = NewWriter(&buf, None)
	if err := w.WritePage(image.NewRGBA(image.Rect(0, 0, 2, 2))); err == nil || !strings.Contains(err.Error(), "opaque") {
		t.Errorf("transparent RGBA page: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed page succeeded")
	}
}

func TestWriteFileIsAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.tif")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFile(path, None, func(w *Writer) error {
		if err := w.WritePage(gray8(4, 4, 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("a failed write changed the file to %q", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("a failed write left %d files", len(ents))
	}
	pages := []image.Image{gray8(4, 4, 1), gray8(4, 4, 2)}
	if err := WriteFile(path, Deflate, func(w *Writer) error {
		for _, p := range pages {
			if err := w.WritePage(p); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range pages {
		got, err := s.Page(i)
		if err != nil {
			t.Fatal(err)
		}
		if d := samePixels(got, pages[i]); d != "" {
			t.Errorf("page %d: %s", i+1, d)
		}
	}
}

// ifdOffsets follows the chain of a little-endian file and returns each IFD's offset.
func ifdOffsets(data []byte) []int {
	var offs []int
	for off := int(binary.LittleEndian.Uint32(data[4:])); off != 0; {
		offs = append(offs, off)
		n := int(binary.LittleEndian.Uint16(data[off:]))
		off = int(binary.LittleEndian.Uint32(data[off+2+12*n:]))
	}
	return offs
}

// setNext points the IFD at off to next.
func setNext(data []byte, off, next int) {
	n := int(binary.LittleEndian.Uint16(data[off:]))
	binary.LittleEndian.PutUint32(data[off+2+12*n:], uint32(next))
}

// entryAt returns the byte offset of the entry for tag in the IFD at off.
func entryAt(t *testing.T, data []byte, off int, tag uint16) int {
	n := int(binary.LittleEndian.Uint16(data[off:]))
	for i := range n {
		e := off + 2 + 12*i
		if binary.LittleEndian.Uint16(data[e:]) == tag {
			return e
		}
	}
	t.Fatalf("no tag %d", tag)
	return 0
}

func wantErr(t *testing.T, err error, kind error, page int, text string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error", err)
	}
	if !errors.Is(err, kind) || e.Page != page || e.Path != "test.tif" || !strings.Contains(err.Error(), text) {
		t.Fatalf("got %q (page %d), want %v at page %d saying %q", err, e.Page, kind, page, text)
	}
}

func TestChainLoop(t *testing.T) {
	data := encode(t, None, gray8(4, 4, 1), gray8(4, 4, 2), gray8(4, 4, 3))
	offs := ifdOffsets(data)
	setNext(data, offs[2], offs[1])
	s, err := NewStack(bytes.NewReader(data), int64(len(data)), "test.tif", 0)
	wantErr(t, err, ErrCorrupt, 4, "loops back to page 2")
	if s == nil || s.Len() != 3 {
		t.Fatalf("the pages before the loop are lost: %v", s)
	}
	setNext(data, offs[0], offs[0])
	_, err = NewStack(bytes.NewReader(data), int64(len(data)), "test.tif", 0)
	wantErr(t, err, ErrCorrupt, 2, "loops back to page 1")
}

// A truncated file keeps the pages before the cut; the error names the first page lost.
func TestTruncatedStack(t *testing.T) {
	pages := []image.Image{gray16(64, 64, 1), gray16(64, 64, 2), gray16(64, 64, 3), gray16(64, 64, 4)}
	data := encode(t, None, pages...)
	offs := ifdOffsets(data)
	cut := data[:offs[2]-100] // inside page 3's data, before its IFD
	s, err := NewStack(bytes.NewReader(cut), int64(len(cut)), "test.tif", 0)
	wantErr(t, err, ErrTruncated, 3, "outside the file")
	if s == nil || s.Len() != 2 {
		t.Fatalf("want the 2 pages before the cut, got %v", s)
	}
	for i := range 2 {
		got, err := s.Page(i)
		if err != nil {
			t.Fatal(err)
		}
		if d := samePixels(got, pages[i]); d != "" {
			t.Fatalf("page %d: %s", i+1, d)
		}
	}
}

// A page whose data points past the end of the file fails alone.
func TestBadPageInTheMiddle(t *testing.T) {
	for _, c := range []Compression{None, Deflate} {
		pages := []image.Image{gray8(50, 40, 1), gray8(50, 40, 2), gray8(50, 40, 3)}
		data := encode(t, c, pages...)
		offs := ifdOffsets(data)
		e := entryAt(t, data, offs[1], 273) // one strip: the offset is in the entry
		binary.LittleEndian.PutUint32(data[e+8:], uint32(len(data)-10))
		s := open(t, data)
		_, err := s.Page(1)
		wantErr(t, err, ErrTruncated, 2, "past the end of the file")
		for _, i := range []int{0, 2} {
			got, err := s.Page(i)
			if err != nil {
				t.Fatalf("page %d: %v", i+1, err)
			}
			if d := samePixels(got, pages[i]); d != "" {
				t.Fatalf("page %d: %s", i+1, d)
			}
		}
	}
	// Deflate data cut short inside the file: x/image/tiff's error, with the page.
	pages := []image.Image{gray8(50, 40, 1), gray8(50, 40, 2)}
	data := encode(t, Deflate, pages...)
	offs := ifdOffsets(data)
	e := entryAt(t, data, offs[0], 279)
	binary.LittleEndian.PutUint32(data[e+8:], binary.LittleEndian.Uint32(data[e+8:])/2)
	s := open(t, data)
	_, err := s.Page(0)
	wantErr(t, err, ErrTruncated, 1, "")
	if _, err := s.Page(1); err != nil {
		t.Fatal(err)
	}
}

func TestPagesDifferInSize(t *testing.T) {
	s := open(t, encode(t, None, gray8(10, 20, 1), gray16(30, 5, 2), rgb(3, 3, 3)))
	want := []string{"10x20 gray 8-bit, uncompressed", "30x5 gray 16-bit, uncompressed", "3x3 RGB 8-bit, uncompressed"}
	for i, p := range s.Pages {
		if p.String() != want[i] {
			t.Errorf("page %d: %q, want %q", i+1, p, want[i])
		}
	}
}

// A small file claiming huge pages is refused before anything is allocated for them.
func TestHugeClaims(t *testing.T) {
	data := encode(t, Deflate, gray8(64, 64, 1))
	off := ifdOffsets(data)[0]
	binary.LittleEndian.PutUint32(data[entryAt(t, data, off, 256)+8:], 8000)
	binary.LittleEndian.PutUint32(data[entryAt(t, data, off, 257)+8:], 8000)
	binary.LittleEndian.PutUint32(data[entryAt(t, data, off, 278)+8:], 8000)
	s := open(t, data)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := s.Page(0)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	wantErr(t, err, ErrCorrupt, 1, "cannot hold")
	if a := after.TotalAlloc - before.TotalAlloc; a > 1<<20 {
		t.Errorf("refusing the page allocated %d bytes", a)
	}
	binary.LittleEndian.PutUint32(data[entryAt(t, data, off, 256)+8:], 9000)
	binary.LittleEndian.PutUint32(data[entryAt(t, data, off, 257)+8:], 9000)
	_, err = open(t, data).Page(0)
	wantErr(t, err, ErrTooLarge, 1, "9000x9000")
}

// An ImageJ header that announces more pages than the file's IFDs: the missing pages are
// reported, never silently skipped.
func TestImageJClaimsMorePages(t *testing.T) {
	// One page more than the file has is the edge an off-by-one in the count would let
	// through; as many as it has is no error.
	for _, c := range []struct {
		images int
		want   string
	}{{65000, "pages 4 to 65000 are not read"}, {4, "pages 4 to 4 are not read"}, {3, ""}} {
		data := encode(t, None, gray8(4, 4, 1), gray8(4, 4, 2), gray8(4, 4, 3))
		// Rewrite the first IFD with an ImageDescription: copy its entries, insert tag 270
		// (in ascending order), and append the text and the new IFD at the end of the file.
		offs := ifdOffsets(data)
		old := offs[0]
		n := int(binary.LittleEndian.Uint16(data[old:]))
		desc := fmt.Sprintf("ImageJ=1.54f\nimages=%d\nslices=%d\n\x00", c.images, c.images)
		descAt := len(data)
		data = append(data, desc...)
		if len(data)%2 == 1 {
			data = append(data, 0)
		}
		ifdAt := len(data)
		ifd := binary.LittleEndian.AppendUint16(nil, uint16(n+1))
		var added bool
		for i := range n {
			e := data[old+2+12*i : old+14+12*i]
			if !added && binary.LittleEndian.Uint16(e) > 270 {
				ifd = binary.LittleEndian.AppendUint16(ifd, 270)
				ifd = binary.LittleEndian.AppendUint16(ifd, 2)
				ifd = binary.LittleEndian.AppendUint32(ifd, uint32(len(desc)))
				ifd = binary.LittleEndian.AppendUint32(ifd, uint32(descAt))
				added = true
			}
			ifd = append(ifd, e...)
		}
		ifd = binary.LittleEndian.AppendUint32(ifd, uint32(offs[1]))
		data = append(data, ifd...)
		binary.LittleEndian.PutUint32(data[4:], uint32(ifdAt))
		s, err := NewStack(bytes.NewReader(data), int64(len(data)), "test.tif", 0)
		if c.want == "" {
			if err != nil {
				t.Errorf("images=%d: %v", c.images, err)
			}
		} else {
			wantErr(t, err, ErrMissing, 0, c.want)
		}
		if s == nil || s.Len() != 3 {
			t.Fatalf("images=%d: want the 3 pages the file has, got %v", c.images, s)
		}
	}
}

// A chain of 65,000 IFDs, all sharing one page's pixels, opens in bounded memory: each
// description is small, and nothing is decoded.
func TestManyPages(t *testing.T) {
	const pages = 65000
	first := encode(t, None, gray8(8, 8, 1))
	ifd := ifdOffsets(first)[0]
	n := int(binary.LittleEndian.Uint16(first[ifd:]))
	size := 2 + 12*n + 4
	data := append([]byte(nil), first[:ifd]...)
	for k := range pages {
		at := len(data)
		data = append(data, first[ifd:ifd+size]...)
		next := 0
		if k < pages-1 {
			next = at + size
		}
		binary.LittleEndian.PutUint32(data[at+2+12*n:], uint32(next))
	}
	binary.LittleEndian.PutUint32(data[4:], uint32(ifd))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := open(t, data)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if s.Len() != pages {
		t.Fatalf("%d pages, want %d", s.Len(), pages)
	}
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 200*pages {
		t.Errorf("the page descriptions take %d bytes, %d a page", grew, grew/pages)
	}
	if _, err := s.Page(pages - 1); err != nil {
		t.Fatal(err)
	}
}

func TestNotTIFF(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("II*"), []byte("PK\x03\x04\x00\x00\x00\x00"), []byte("II+\x00\x08\x00\x00\x00")} {
		s, err := NewStack(bytes.NewReader(data), int64(len(data)), "test.tif", 0)
		if err == nil || s != nil {
			t.Errorf("%q: accepted", data)
		}
		var e *Error
		if !errors.As(err, &e) || e.Path != "test.tif" {
			t.Errorf("%q: %v does not name the file", data, err)
		}
	}
}

// A 30-page 1024x1024 16-bit stack is written and read back in memory bounded by a page:
// the heap never holds more than a few pages, and each page costs the same allocations.
func TestStackMemoryIsOnePage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 60 MB file")
	}
	const pages, side = 30, 1024
	pageBytes := uint64(side * side * 2)
	path := filepath.Join(t.TempDir(), "stack.tif")
	page := gray16(side, side, 1)
	var peak uint64
	sample := func() {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapInuse)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	base := m0.HeapInuse
	err := WriteFile(path, Deflate, func(w *Writer) error {
		for k := range pages {
			page.Pix[0] = uint8(k) // each page its own
			if err := w.WritePage(page); err != nil {
				return err
			}
			sample()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	if perPage := (m1.TotalAlloc - m0.TotalAlloc) / pages; perPage > 2*pageBytes {
		t.Errorf("writing allocates %d bytes a page, more than 2 pages", perPage)
	}
	if peak-base > 4*pageBytes {
		t.Errorf("writing held %d bytes, more than 4 pages", peak-base)
	}
	s, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Len() != pages {
		t.Fatalf("%d pages, want %d", s.Len(), pages)
	}
	runtime.GC()
	runtime.ReadMemStats(&m0)
	peak, base = 0, m0.HeapInuse
	for k := range pages {
		img, err := s.Page(k)
		if err != nil {
			t.Fatal(err)
		}
		page.Pix[0] = uint8(k)
		if d := samePixels(img, page); d != "" {
			t.Fatalf("page %d: %s", k+1, d)
		}
		sample() // with the page still held
		runtime.KeepAlive(img)
	}
	runtime.ReadMemStats(&m1)
	if perPage := (m1.TotalAlloc - m0.TotalAlloc) / pages; perPage > 3*pageBytes {
		t.Errorf("reading allocates %d bytes a page, more than 3 pages", perPage)
	}
	if peak-base > 2*pageBytes {
		t.Errorf("reading held %d bytes, more than 2 pages", peak-base)
	}
	t.Logf("per page: %d bytes of pixels; peak heap over the base while reading %d", pageBytes, peak-base)
}

// Colour planes stored apart would decode as interleaved samples, wrongly: refused.
func TestPlanarRefused(t *testing.T) {
	data := encode(t, None, rgb(4, 4, 1))
	e := entryAt(t, data, ifdOffsets(data)[0], 284)
	binary.LittleEndian.PutUint16(data[e+8:], 2)
	_, err := open(t, data).Page(0)
	wantErr(t, err, ErrUnsupported, 1, "planar configuration 2")
	if !errors.Is(err, ErrPlanar) {
		t.Errorf("%v does not wrap ErrPlanar", err)
	}
}

// A file as tifffile writes it with planarconfig="separate" (testdata/planar.tif: 8x6 RGB,
// one strip a plane) is described as it is, and its page refused by name and page.
func TestPlanarFileRefused(t *testing.T) {
	data, err := os.ReadFile("testdata/planar.tif")
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, data)
	if s.Len() != 1 || !s.Pages[0].PlanesApart() || s.Pages[0].Width != 8 || s.Pages[0].Height != 6 {
		t.Fatalf("pages %+v; want one 8x6 page with its planes apart", s.Pages)
	}
	_, err = s.Page(0)
	wantErr(t, err, ErrUnsupported, 1, "planar configuration 2 (colour planes stored apart) is not supported")
}
