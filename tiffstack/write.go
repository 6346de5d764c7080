package tiffstack

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/segment-dev/segment/internal/atomicfile"
)

// Compression selects how Writer stores pixels.
type Compression int

const (
	// None stores pixels as they are: the fastest to write and read, readable by every tool.
	None Compression = iota
	// Deflate stores each strip zlib-compressed (TIFF compression 8), which shrinks masks
	// and label images many times over.
	Deflate
)

// stripBytes is the target size of one strip, the usual order of magnitude for TIFF writers.
const stripBytes = 64 << 10

// Writer appends pages to a TIFF file one at a time; only the page being written is held.
// Each page's IFD is written after its data, once the position of the next page's IFD is
// known, so the output needs no seeking. Close finishes the file.
type Writer struct {
	w           io.Writer
	compression Compression
	pos         int64  // bytes written so far
	pending     []byte // the IFD of the last page, waiting for the next page's position
	pages       int
	err         error
	data        bytes.Buffer // one page's strips
	software    string       // the first page's Software tag (305); none when empty
}

// SetSoftware names the program that wrote the file in the first page's Software tag
// (305), which Stack.Software reads back: how a program tells its own outputs, which it
// may replace, from files it must leave alone. Call it before the first page.
func (w *Writer) SetSoftware(name string) { w.software = name }

// NewWriter returns a Writer that writes a little-endian TIFF file to w.
func NewWriter(w io.Writer, c Compression) *Writer {
	return &Writer{w: w, compression: c}
}

// WriteFile writes the TIFF file at path atomically: write gets a Writer and appends the
// pages, and the file appears, finished, only if write and Close succeed. On any error
// whatever was at path stays as it was.
func WriteFile(path string, c Compression, write func(*Writer) error) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		tw := NewWriter(w, c)
		if err := write(tw); err != nil {
			return err
		}
		return tw.Close()
	})
}

// Pages returns the number of pages written so far.
func (w *Writer) Pages() int { return w.pages }

// WritePage appends img as the next page. It takes *image.Gray (8-bit gray), *image.Gray16
// (16-bit gray) and *image.RGBA with every alpha 255 (8-bit RGB); convert other images first.
func (w *Writer) WritePage(img image.Image) error {
	if w.err != nil {
		return w.err
	}
	if err := w.writePage(img); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *Writer) writePage(img image.Image) error {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	if width <= 0 || height <= 0 {
		return fmt.Errorf("page %d is empty (%dx%d)", w.pages+1, width, height)
	}
	var spp, bps int
	var row func(y int, dst []byte) error // appends row y's samples
	switch m := img.(type) {
	case *image.Gray:
		spp, bps = 1, 8
		row = func(y int, dst []byte) error {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(dst, m.Pix[i:i+width])
			return nil
		}
	case *image.Gray16:
		spp, bps = 1, 16
		row = func(y int, dst []byte) error {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			for x := range width { // image.Gray16 is big-endian; the file is little-endian
				dst[2*x], dst[2*x+1] = m.Pix[i+2*x+1], m.Pix[i+2*x]
			}
			return nil
		}
	case *image.RGBA:
		spp, bps = 3, 8
		row = func(y int, dst []byte) error {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			for x := range width {
				p := m.Pix[i+4*x : i+4*x+4]
				if p[3] != 0xff {
					return fmt.Errorf("page %d is not opaque at (%d,%d); RGB pages have no alpha", w.pages+1, b.Min.X+x, b.Min.Y+y)
				}
				copy(dst[3*x:], p[:3])
			}
			return nil
		}
	default:
		return fmt.Errorf("page %d: cannot write a %T; give an *image.Gray, *image.Gray16 or *image.RGBA", w.pages+1, img)
	}
	rowLen := width * spp * bps / 8
	rps := max(1, stripBytes/rowLen)
	rps = min(rps, height)
	nStrips := (height + rps - 1) / rps

	// Encode the page's strips, remembering each one's offset within the page's data.
	w.data.Reset()
	offsets := make([]int64, nStrips)
	counts := make([]int64, nStrips)
	line := make([]byte, rowLen)
	var zw *zlib.Writer
	for s := range nStrips {
		offsets[s] = int64(w.data.Len())
		var dst io.Writer = &w.data
		if w.compression == Deflate {
			if zw == nil {
				zw = zlib.NewWriter(&w.data)
			} else {
				zw.Reset(&w.data)
			}
			dst = zw
		}
		for y := s * rps; y < min(height, (s+1)*rps); y++ {
			if err := row(y, line); err != nil {
				return err
			}
			dst.Write(line) // a bytes.Buffer, or zlib over one, does not fail
		}
		if zw != nil {
			if err := zw.Close(); err != nil {
				return err
			}
		}
		counts[s] = int64(w.data.Len()) - offsets[s]
	}
	if w.data.Len()%2 == 1 { // keep the IFD that follows on a word boundary, as TIFF asks
		w.data.WriteByte(0)
	}

	// The layout is: header, data 1, IFD 1, data 2, IFD 2, ... The pending IFD of the
	// previous page goes first, now that the next IFD's position is known.
	dataAt := w.pos
	if w.pages == 0 {
		dataAt = 8
	} else {
		dataAt += int64(len(w.pending))
	}
	ifdAt := dataAt + int64(w.data.Len())
	for s := range offsets {
		offsets[s] += dataAt
	}
	ifd := w.ifd(ifdAt, width, height, spp, bps, rps, offsets, counts)
	if end := ifdAt + int64(len(ifd)); end > math.MaxUint32 {
		return fmt.Errorf("page %d would end at byte %d, past the 4 GiB of a classic TIFF file (BigTIFF is not written)", w.pages+1, end)
	}
	if w.pages == 0 {
		head := []byte("II*\x00\x00\x00\x00\x00")
		binary.LittleEndian.PutUint32(head[4:], uint32(ifdAt))
		if err := w.write(head); err != nil {
			return err
		}
	} else {
		n := int(binary.LittleEndian.Uint16(w.pending))
		binary.LittleEndian.PutUint32(w.pending[2+12*n:], uint32(ifdAt))
		if err := w.write(w.pending); err != nil {
			return err
		}
	}
	if err := w.write(w.data.Bytes()); err != nil {
		return err
	}
	w.pending = ifd
	w.pages++
	return nil
}

func (w *Writer) write(p []byte) error {
	n, err := w.w.Write(p)
	w.pos += int64(n)
	return err
}

// ifd encodes the IFD of a page placed at byte at: its entries, in ascending tag order as
// TIFF requires, a zero next-IFD offset that the next page fills in, then the values that do
// not fit in their entries.
func (w *Writer) ifd(at int64, width, height, spp, bps, rps int, offsets, counts []int64) []byte {
	type field struct {
		tag, typ uint16
		vals     []uint32
	}
	bits := make([]uint32, spp)
	for i := range bits {
		bits[i] = uint32(bps)
	}
	photometric, compression := uint32(1), uint32(1)
	if spp == 3 {
		photometric = 2
	}
	if w.compression == Deflate {
		compression = 8
	}
	toU32 := func(v []int64) []uint32 {
		u := make([]uint32, len(v))
		for i, x := range v {
			u[i] = uint32(x)
		}
		return u
	}
	fields := []field{
		{256, 4, []uint32{uint32(width)}},
		{257, 4, []uint32{uint32(height)}},
		{258, 3, bits},
		{259, 3, []uint32{compression}},
		{262, 3, []uint32{photometric}},
		{273, 4, toU32(offsets)},
		{277, 3, []uint32{uint32(spp)}},
		{278, 4, []uint32{uint32(rps)}},
		{279, 4, toU32(counts)},
		{284, 3, []uint32{1}},
	}
	if w.pages == 0 && w.software != "" {
		ascii := make([]uint32, 0, len(w.software)+1)
		for _, c := range []byte(w.software) {
			ascii = append(ascii, uint32(c))
		}
		fields = append(fields, field{305, 2, append(ascii, 0)}) // NUL-terminated, as TIFF's ASCII type is
	}
	le := binary.LittleEndian
	head := 2 + 12*len(fields) + 4
	out := make([]byte, head, head+64)
	le.PutUint16(out, uint16(len(fields)))
	for i, f := range fields {
		e := out[2+12*i:]
		le.PutUint16(e, f.tag)
		le.PutUint16(e[2:], f.typ)
		le.PutUint32(e[4:], uint32(len(f.vals)))
		var val []byte
		for _, v := range f.vals {
			switch f.typ {
			case 2: // ASCII: a byte each
				val = append(val, byte(v))
			case 3:
				val = le.AppendUint16(val, uint16(v))
			default:
				val = le.AppendUint32(val, v)
			}
		}
		if len(val) <= 4 {
			copy(e[8:12], val)
			continue
		}
		le.PutUint32(e[8:], uint32(at+int64(len(out))))
		out = append(out, val...)
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
	}
	return out
}

// Close writes the last page's IFD. It fails if no page was written: a TIFF file has at
// least one. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.pages == 0 {
		w.err = errors.New("a TIFF file needs at least one page; none was written")
		return w.err
	}
	w.err = w.write(w.pending)
	if w.err == nil {
		w.err = errors.New("the TIFF writer is closed")
		return nil
	}
	return w.err
}
