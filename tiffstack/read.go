package tiffstack

import (
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/internal/regular"
	xtiff "golang.org/x/image/tiff"
)

// DefaultMaxPixels is the largest page, in pixels (width times height), that Open accepts when
// given a limit of zero: 8192x8192, the same as the data sets' limit. A page that claims more
// is reported when it is decoded, before anything is allocated for it.
const DefaultMaxPixels = 8192 * 8192

// MaxPages bounds the pages of one stack, so that a chain of tiny IFDs cannot make Open
// hold millions of page descriptions.
const MaxPages = 1 << 20

// Page describes one page as its IFD gives it, before any pixel is decoded.
type Page struct {
	Width, Height   int
	BitsPerSample   int  // bits of one sample; 1, 8 and 16 decode
	SamplesPerPixel int  // 1 for gray or paletted, 3 for RGB, 4 for RGB and alpha
	Photometric     int  // TIFF PhotometricInterpretation: 0 WhiteIsZero, 1 BlackIsZero, 2 RGB, 3 paletted
	Compression     int  // TIFF Compression: 1 none, 5 LZW, 8 or 32946 Deflate, 32773 PackBits, ...
	Tiled           bool // the pixels are in tiles rather than strips

	ifd            int64 // where the IFD starts
	planar         int   // TIFF PlanarConfiguration; 2 (planes apart) is not decoded
	rowsPerStrip   int
	tileW, tileH   int
	offsets, count entry // the StripOffsets/TileOffsets and their byte counts
}

// String describes the page for messages, e.g. "1024x768 gray 16-bit, Deflate".
func (p Page) String() string {
	kind := "gray"
	switch {
	case p.Photometric == 3:
		kind = "paletted"
	case p.Photometric == 2 && p.SamplesPerPixel == 4:
		kind = "RGBA"
	case p.Photometric == 2:
		kind = "RGB"
	}
	return fmt.Sprintf("%dx%d %s %d-bit, %s", p.Width, p.Height, kind, p.BitsPerSample, compressionName(p.Compression))
}

// PlanesApart reports whether the page stores its colour planes one after the other
// (PlanarConfiguration 2) instead of interleaving the samples of each pixel. No decoder
// here reads that layout, and golang.org/x/image/tiff, which ignores the tag, would take
// the first plane for interleaved samples and report the file as truncated, or decode
// the wrong pixels: such a page is refused with ErrPlanar.
func (p Page) PlanesApart() bool { return p.planar == 2 && p.SamplesPerPixel > 1 }

func compressionName(c int) string {
	switch c {
	case 1:
		return "uncompressed"
	case 2, 3, 4:
		return "CCITT"
	case 5:
		return "LZW"
	case 7:
		return "JPEG"
	case 8, 32946:
		return "Deflate"
	case 32773:
		return "PackBits"
	}
	return "compression " + strconv.Itoa(c)
}

// Stack is an open TIFF file whose pages are decoded one at a time.
type Stack struct {
	// Pages describes every page, in file order. Pages may differ in size and format.
	Pages []Page
	// Software is the first page's Software tag (305): the program that wrote the file,
	// empty when it says none.
	Software string

	path      string
	r         io.ReaderAt
	size      int64
	order     binary.ByteOrder
	maxPixels int
	closer    io.Closer
}

// Open opens the TIFF file at path and reads its page descriptions; maxPixels bounds each
// page (zero means DefaultMaxPixels). When the chain of pages breaks after some good ones,
// Open returns a stack of the good pages together with an *Error naming the first bad page:
// a caller that must not skip pages treats any error as fatal; one that can go on reports
// the error and uses the stack. Close the stack when it is not nil.
func Open(path string, maxPixels int) (*Stack, error) {
	f, err := regular.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s, err := NewStack(f, st.Size(), path, maxPixels)
	if s == nil {
		f.Close()
		return nil, err
	}
	s.closer = f
	return s, err
}

// NewStack reads the page descriptions of the TIFF data of the given size in r, as Open
// does; name stands for the file in errors. Closing the stack does not close r.
func NewStack(r io.ReaderAt, size int64, name string, maxPixels int) (*Stack, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	s := &Stack{path: name, r: r, size: size, maxPixels: maxPixels}
	var head [8]byte
	if err := s.readAt(head[:], 0); err != nil {
		return nil, s.fail(0, ErrNotTIFF, "%d bytes, shorter than a TIFF header", size)
	}
	switch string(head[:2]) {
	case "II":
		s.order = binary.LittleEndian
	case "MM":
		s.order = binary.BigEndian
	default:
		return nil, s.fail(0, ErrNotTIFF, "no TIFF byte-order mark")
	}
	switch s.order.Uint16(head[2:]) {
	case 42:
	case 43:
		return nil, s.fail(0, ErrUnsupported, "BigTIFF")
	default:
		return nil, s.fail(0, ErrNotTIFF, "bad version number")
	}
	seen := make(map[int64]int) // IFD offset -> page number, to find loops
	var description string
	for off := int64(s.order.Uint32(head[4:])); off != 0; {
		n := len(s.Pages) + 1
		if prev, ok := seen[off]; ok {
			return s.partial(s.fail(n, ErrCorrupt, "the chain of pages loops back to page %d", prev))
		}
		if len(s.Pages) == MaxPages {
			return s.partial(s.fail(n, ErrTooMany, "more than %d pages", MaxPages))
		}
		seen[off] = n
		p, next, desc, err := s.readPage(n, off)
		if err != nil {
			return s.partial(err)
		}
		if n == 1 {
			description = desc
		}
		s.Pages = append(s.Pages, p)
		off = next
	}
	if want := imageJImages(description); want > len(s.Pages) {
		return s, s.fail(0, ErrMissing, "the ImageJ header says %d pages, the file has %d; pages %d to %d are not read (ImageJ's layout for stacks over 4 GiB is not supported)",
			want, len(s.Pages), len(s.Pages)+1, want)
	}
	return s, nil
}

// partial returns the stack of the pages read so far with err, or no stack when there are none.
func (s *Stack) partial(err error) (*Stack, error) {
	if len(s.Pages) == 0 {
		return nil, err
	}
	return s, err
}

// imageJImages returns the page count that an ImageJ description ("ImageJ=...\nimages=N\n...")
// announces, or 0.
func imageJImages(desc string) int {
	if !strings.HasPrefix(desc, "ImageJ=") {
		return 0
	}
	for line := range strings.SplitSeq(desc, "\n") {
		if v, ok := strings.CutPrefix(line, "images="); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}

// Len returns the number of pages.
func (s *Stack) Len() int { return len(s.Pages) }

// Path returns the file's name as errors give it.
func (s *Stack) Path() string { return s.path }

// Close closes the file that Open opened.
func (s *Stack) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

func (s *Stack) fail(page int, kind error, format string, args ...any) *Error {
	return &Error{Path: s.path, Page: page, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
}

// readAt reads len(p) bytes at off, failing when they are not all inside the file.
func (s *Stack) readAt(p []byte, off int64) error {
	if off < 0 || off > s.size || int64(len(p)) > s.size-off {
		return io.ErrUnexpectedEOF
	}
	n, err := s.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// An entry is one IFD entry: a tag, the type and number of its values, and the four bytes
// that hold them or their offset.
type entry struct {
	tag, typ uint16
	count    uint32
	raw      [4]byte
}

// typeSize gives the bytes of one value of each TIFF field type, 0 for unknown types.
func typeSize(typ uint16) int64 {
	switch typ {
	case 1, 2, 6, 7:
		return 1
	case 3, 8:
		return 2
	case 4, 9, 11:
		return 4
	case 5, 10, 12:
		return 8
	}
	return 0
}

// readPage reads the IFD of page n at off and returns the page, the next IFD's offset and,
// for ImageJ's header, the ImageDescription (first 64 KiB).
func (s *Stack) readPage(n int, off int64) (Page, int64, string, error) {
	var cnt [2]byte
	if off < 8 || s.readAt(cnt[:], off) != nil {
		return Page{}, 0, "", s.fail(n, ErrTruncated, "its IFD at byte %d is outside the file (%d bytes)", off, s.size)
	}
	ne := int64(s.order.Uint16(cnt[:]))
	if ne == 0 {
		return Page{}, 0, "", s.fail(n, ErrCorrupt, "empty IFD at byte %d", off)
	}
	buf := make([]byte, 12*ne+4)
	if s.readAt(buf, off+2) != nil {
		return Page{}, 0, "", s.fail(n, ErrTruncated, "its IFD of %d entries at byte %d runs past the end of the file (%d bytes)", ne, off, s.size)
	}
	p := Page{ifd: off, BitsPerSample: 1, SamplesPerPixel: 1, Compression: 1, planar: 1, Photometric: -1}
	var desc string
	var has [2]bool // the offsets and the byte counts were found
	for i := range ne {
		b := buf[12*i:]
		e := entry{tag: s.order.Uint16(b), typ: s.order.Uint16(b[2:]), count: s.order.Uint32(b[4:])}
		copy(e.raw[:], b[8:12])
		var err error
		var v int
		switch e.tag {
		case 256:
			p.Width, err = s.first(e)
		case 257:
			p.Height, err = s.first(e)
		case 258:
			p.BitsPerSample, err = s.first(e)
		case 259:
			p.Compression, err = s.first(e)
		case 262:
			p.Photometric, err = s.first(e)
		case 277:
			p.SamplesPerPixel, err = s.first(e)
		case 278:
			v, err = s.first(e)
			p.rowsPerStrip = v
		case 284:
			p.planar, err = s.first(e)
		case 322:
			p.tileW, err = s.first(e)
			p.Tiled = true
		case 323:
			p.tileH, err = s.first(e)
		case 273, 324:
			p.offsets, has[0] = e, true
		case 279, 325:
			p.count, has[1] = e, true
		case 270:
			if n == 1 && e.typ == 2 {
				desc = s.ascii(e, 1<<16)
			}
		case 305:
			if n == 1 && e.typ == 2 {
				s.Software = s.ascii(e, 256)
			}
		}
		if err != nil {
			return Page{}, 0, "", s.fail(n, ErrCorrupt, "tag %d: %v", e.tag, err)
		}
	}
	next := int64(s.order.Uint32(buf[12*ne:]))
	switch {
	case p.Width <= 0 || p.Height <= 0:
		return Page{}, 0, "", s.fail(n, ErrCorrupt, "no width or height")
	case !has[0] || !has[1]:
		return Page{}, 0, "", s.fail(n, ErrCorrupt, "no strip or tile offsets and byte counts")
	case p.Photometric < 0:
		p.Photometric = 1 // missing in some writers' gray files; x/image/tiff would refuse it
	}
	return p, next, desc, nil
}

// first returns the first value of an integer entry.
func (s *Stack) first(e entry) (int, error) {
	v, err := s.values(e, 1)
	if err != nil {
		return 0, err
	}
	return int(v[0]), nil
}

// values returns the first max values of an integer entry, checking that they lie inside
// the file before reading them.
func (s *Stack) values(e entry, max int) ([]uint64, error) {
	size := typeSize(e.typ)
	if e.typ != 1 && e.typ != 3 && e.typ != 4 {
		return nil, fmt.Errorf("type %d where an integer is due", e.typ)
	}
	if e.count == 0 {
		return nil, fmt.Errorf("no value")
	}
	k := min(int64(e.count), int64(max))
	var b []byte
	if int64(e.count)*size <= 4 {
		b = e.raw[:]
	} else {
		off := int64(s.order.Uint32(e.raw[:]))
		if off+int64(e.count)*size > s.size {
			return nil, fmt.Errorf("%d values at byte %d run past the end of the file (%d bytes)", e.count, off, s.size)
		}
		b = make([]byte, k*size)
		if err := s.readAt(b, off); err != nil {
			return nil, err
		}
	}
	v := make([]uint64, k)
	for i := range v {
		switch size {
		case 1:
			v[i] = uint64(b[i])
		case 2:
			v[i] = uint64(s.order.Uint16(b[2*i:]))
		case 4:
			v[i] = uint64(s.order.Uint32(b[4*i:]))
		}
	}
	return v, nil
}

// ascii returns an ASCII entry's text, cut at max bytes and at the first NUL; "" when
// it cannot be read.
func (s *Stack) ascii(e entry, max int) string {
	k := min(int64(e.count), int64(max))
	var b []byte
	if e.count <= 4 {
		b = e.raw[:k]
	} else {
		b = make([]byte, k)
		if s.readAt(b, int64(s.order.Uint32(e.raw[:]))) != nil {
			return ""
		}
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// maxExpansion is the most bytes of pixels that one byte of data can decompress to with
// each compression, with margin; 0 where there is no useful bound (CCITT can code a blank
// row in a few bits).
func maxExpansion(compression int) int64 {
	switch compression {
	case 1:
		return 1
	case 32773: // PackBits: two bytes repeat a byte at most 128 times
		return 65
	case 5: // LZW: a code of at least 9 bits stands for at most 4096 bytes
		return 4096
	case 8, 32946: // Deflate: at most about 1032 to 1
		return 1100
	}
	return 0
}

// Page decodes page i (from 0). The image is an *image.Gray or *image.Gray16 for gray pages,
// and whatever golang.org/x/image/tiff gives for the others (*image.RGBA, *image.Paletted, ...).
// Errors name the file and the page (numbered from 1); the other pages stay readable.
func (s *Stack) Page(i int) (image.Image, error) {
	if i < 0 || i >= len(s.Pages) {
		return nil, &Error{Path: s.path, Err: fmt.Errorf("no page %d: the file has %d", i+1, len(s.Pages))}
	}
	p := s.Pages[i]
	n := i + 1
	if int64(p.Width)*int64(p.Height) > int64(s.maxPixels) {
		return nil, s.fail(n, ErrTooLarge, "%dx%d pixels, more than the limit of %d", p.Width, p.Height, s.maxPixels)
	}
	if p.PlanesApart() {
		return nil, &Error{Path: s.path, Page: n, Err: fmt.Errorf("%w: %w", ErrUnsupported, ErrPlanar)}
	}
	if p.BitsPerSample != 1 && p.BitsPerSample != 8 && p.BitsPerSample != 16 {
		return nil, s.fail(n, ErrUnsupported, "%d bits per sample", p.BitsPerSample)
	}
	if p.SamplesPerPixel < 1 || p.SamplesPerPixel > 4 {
		return nil, s.fail(n, ErrUnsupported, "%d samples per pixel", p.SamplesPerPixel)
	}
	// The blocks (strips or tiles) and the bytes of pixels they must decode to.
	rowBytes := func(w int) int64 { return (int64(w)*int64(p.SamplesPerPixel)*int64(p.BitsPerSample) + 7) / 8 }
	var blocks int64
	var need int64
	if p.Tiled {
		if p.tileW < 8 || p.tileH < 8 || p.tileW > 1<<16 || p.tileH > 1<<16 {
			return nil, s.fail(n, ErrCorrupt, "tiles of %dx%d pixels", p.tileW, p.tileH)
		}
		across := (int64(p.Width) + int64(p.tileW) - 1) / int64(p.tileW)
		down := (int64(p.Height) + int64(p.tileH) - 1) / int64(p.tileH)
		blocks = across * down
		need = blocks * int64(p.tileH) * rowBytes(p.tileW)
	} else {
		rps := int64(p.rowsPerStrip)
		if rps <= 0 || rps > int64(p.Height) {
			rps = int64(p.Height)
		}
		blocks = (int64(p.Height) + rps - 1) / rps
		need = int64(p.Height) * rowBytes(p.Width)
	}
	if int64(p.offsets.count) < blocks || int64(p.count.count) < blocks {
		return nil, s.fail(n, ErrCorrupt, "%d blocks of pixels, but %d offsets and %d byte counts", blocks, p.offsets.count, p.count.count)
	}
	offs, err := s.values(p.offsets, int(blocks))
	if err != nil {
		return nil, s.fail(n, ErrCorrupt, "block offsets: %v", err)
	}
	counts, err := s.values(p.count, int(blocks))
	if err != nil {
		return nil, s.fail(n, ErrCorrupt, "block byte counts: %v", err)
	}
	var total int64
	for k := range offs {
		if end := int64(offs[k]) + int64(counts[k]); end > s.size {
			return nil, s.fail(n, ErrTruncated, "block %d of %d ends at byte %d, past the end of the file (%d bytes)", k+1, blocks, end, s.size)
		}
		total += int64(counts[k])
	}
	if r := maxExpansion(p.Compression); r > 0 && total*r < need {
		return nil, s.fail(n, ErrCorrupt, "%d bytes of %s data cannot hold the %d bytes of a %dx%d page", total, compressionName(p.Compression), need, p.Width, p.Height)
	}
	v := &pageView{r: s.r}
	copy(v.head[:], "II*\x00")
	if s.order == binary.BigEndian {
		copy(v.head[:], "MM\x00*")
	}
	s.order.PutUint32(v.head[4:], uint32(p.ifd))
	img, err := xtiff.Decode(v)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, s.fail(n, ErrTruncated, "pixel data ends early")
		}
		return nil, s.fail(n, ErrCorrupt, "%v", err)
	}
	return img, nil
}

// pageView shows x/image/tiff, which decodes the first page only, the file with a header
// that points at the wanted page.
type pageView struct {
	r    io.ReaderAt
	head [8]byte
}

func (v *pageView) ReadAt(p []byte, off int64) (int, error) {
	n, err := v.r.ReadAt(p, off)
	if off < int64(len(v.head)) {
		copy(p[:n], v.head[off:])
	}
	return n, err
}

// Read is never called: x/image/tiff reads through ReadAt when it can, and this type is
// an io.Reader only to be accepted by it.
func (v *pageView) Read(p []byte) (int, error) { return 0, io.ErrNoProgress }
