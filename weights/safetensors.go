package weights

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header a file may declare. Larger lengths are refused
// before anything is allocated: they mean a corrupt file or one that is not safetensors.
const MaxHeaderSize = 100 << 20

// metadataKey is the header entry that holds the string-to-string metadata.
const metadataKey = "__metadata__"

// DType is a safetensors element type, spelled as in the header ("F32", "BF16", ...).
type DType string

// The element types of the safetensors format. Every one is parsed and checked for sizes and
// offsets; F32 is the type of model weights, and F64, F16 and BF16 convert to it.
const (
	BOOL   DType = "BOOL"
	U8     DType = "U8"
	I8     DType = "I8"
	F8E5M2 DType = "F8_E5M2"
	F8E4M3 DType = "F8_E4M3"
	I16    DType = "I16"
	U16    DType = "U16"
	F16    DType = "F16"
	BF16   DType = "BF16"
	I32    DType = "I32"
	U32    DType = "U32"
	F32    DType = "F32"
	F64    DType = "F64"
	I64    DType = "I64"
	U64    DType = "U64"
)

// dtypeSizes gives the size in bytes of one element of each known dtype.
var dtypeSizes = map[DType]int{
	BOOL: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	F64: 8, I64: 8, U64: 8,
}

// Size is the number of bytes of one element, or 0 for a dtype the format does not define.
func (d DType) Size() int { return dtypeSizes[d] }

// Valid reports whether the format defines the dtype.
func (d DType) Valid() bool { return d.Size() > 0 }

// Tensor is one named array of a safetensors file: its element type, its shape (row-major,
// C order) and its raw little-endian bytes, len(Data) == NumElements()*DType.Size().
type Tensor struct {
	DType DType
	Shape []int
	Data  []byte
}

// NewFloat32 makes an F32 tensor of the given shape holding a little-endian copy of data.
// The length of data should be the product of shape; Encode refuses a tensor where it is not.
func NewFloat32(shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{DType: F32, Shape: slices.Clone(shape), Data: b}
}

// NumElements is the product of the shape (1 for a scalar of shape []), or -1 when a
// dimension is negative or the product overflows an int.
func (t Tensor) NumElements() int {
	n, err := numElements(t.Shape)
	if err != nil {
		return -1
	}
	return n
}

// Float32 gives the elements as float32: a copy for F32, and a conversion for F64 (rounded
// to nearest), F16 and BF16 (exact). Other dtypes, and tensors whose data length does not fit
// their dtype and shape, give an error.
func (t Tensor) Float32() ([]float32, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	d := t.Data
	switch t.DType {
	case F32:
		out := make([]float32, len(d)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
		return out, nil
	case F64:
		out := make([]float32, len(d)/8)
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
		return out, nil
	case F16:
		out := make([]float32, len(d)/2)
		for i := range out {
			out[i] = halfToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
		return out, nil
	case BF16:
		out := make([]float32, len(d)/2)
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(d[2*i:])) << 16)
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %s does not convert to float32", t.DType)
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32, exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // infinities and NaNs, keeping the payload
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: frac * 2^-24, exactly representable as a normal float32.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// check reports whether the tensor's dtype is known, its shape valid and its data of the
// length that dtype and shape need.
func (t Tensor) check() error {
	if !t.DType.Valid() {
		return fmt.Errorf("unknown dtype %q", string(t.DType))
	}
	n, err := numElements(t.Shape)
	if err != nil {
		return err
	}
	hi, lo := bits.Mul64(uint64(n), uint64(t.DType.Size()))
	if hi != 0 || lo != uint64(len(t.Data)) {
		return fmt.Errorf("has %d bytes of data, but %s %v needs %d elements of %d bytes", len(t.Data), t.DType, t.Shape, n, t.DType.Size())
	}
	return nil
}

// numElements is the product of a shape, refusing negative dimensions and overflow.
func numElements(shape []int) (int, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("shape %v: element count overflows", shape)
		}
		n = lo
	}
	return int(n), nil
}

// File is the content of a safetensors file: its string metadata and its tensors by name.
type File struct {
	// Metadata is the header's "__metadata__": free-form strings. Decode always sets it,
	// empty when the file has none.
	Metadata map[string]string
	// Tensors holds every tensor of the file by name.
	Tensors map[string]Tensor
}

// Names lists the tensor names in sorted order, the order in which Encode lays them out.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Tensors))
	for name := range f.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// FormatError reports a file that is not a valid safetensors file or model file. Path names
// the file (or what Decode was told to call it); Msg says what is wrong; Err, if not nil, is
// the underlying error (a JSON syntax error, a configuration's validation error, ...).
type FormatError struct {
	Path string
	Msg  string
	Err  error
}

// Error gives "weights: PATH: MSG" followed by ": ERR" where there is an underlying error.
func (e *FormatError) Error() string {
	s := "weights: " + e.Path + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap gives the underlying error, if any, for errors.Is and errors.As.
func (e *FormatError) Unwrap() error { return e.Err }

// formatErr makes a *FormatError with a formatted message and no underlying error.
func formatErr(path, format string, args ...any) error {
	return &FormatError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// ReadFile reads and checks the safetensors file at path. A file that is not valid
// safetensors gives a *FormatError naming path; an error opening the file is the os
// package's, and an error reading it is wrapped with path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, formatErr(path, "not a regular file")
	}
	return Decode(fh, st.Size(), path)
}

// Decode reads and checks a safetensors file of size bytes from r; name is what errors call
// the file (its path, for instance). The header is checked against size before anything big
// is allocated, so size must be the true size of what r holds. Invalid content gives a
// *FormatError; a failure of r gives an error wrapping it. Decode never panics.
func Decode(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 8 {
		return nil, formatErr(name, "file is too short (%d bytes) to hold a safetensors header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("weights: %s: reading the header length: %w", name, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, formatErr(name, "header length %d is absurd (more than %d bytes): not a safetensors file", n, MaxHeaderSize)
	}
	if int64(n) > size-8 {
		return nil, formatErr(name, "header length %d runs past the end of the file (%d bytes): truncated or not a safetensors file", n, size)
	}
	header := make([]byte, n)
	if err := readFull(r, header, 8); err != nil {
		return nil, fmt.Errorf("weights: %s: reading the header: %w", name, err)
	}
	dataLen := size - 8 - int64(n)
	if dataLen > math.MaxInt {
		return nil, formatErr(name, "file of %d bytes is too large for this platform", size)
	}
	h, err := parseHeader(header, dataLen, name)
	if err != nil {
		return nil, err
	}
	data := make([]byte, dataLen)
	if err := readFull(r, data, 8+int64(n)); err != nil {
		return nil, fmt.Errorf("weights: %s: reading the tensor data: %w", name, err)
	}
	for k, t := range h.Tensors {
		// parseHeader checked begin <= end <= dataLen. The third index keeps an append to
		// one tensor's data from running into the next tensor's.
		off := h.offsets[k]
		t.Data = data[off[0]:off[1]:off[1]]
		h.Tensors[k] = t
	}
	return &File{Metadata: h.Metadata, Tensors: h.Tensors}, nil
}

// readFull fills buf from r at off, taking an io.EOF that comes with a full buffer as success.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	if len(buf) == 0 {
		return nil
	}
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// parsedHeader is a checked header: the file's metadata, its tensors without data and
// each tensor's data offsets.
type parsedHeader struct {
	Metadata map[string]string
	Tensors  map[string]Tensor
	offsets  map[string][2]int64
}

// jsonEntry is one key and raw value of a JSON object, in the order of the text.
type jsonEntry struct {
	Key   string
	Value json.RawMessage
}

// objectEntries splits a JSON object into its entries, refusing anything but one object
// (with only whitespace after it) and duplicate keys.
func objectEntries(data []byte) ([]jsonEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var entries []jsonEntry
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		entries = append(entries, jsonEntry{key, v})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the JSON object")
		}
		return nil, err
	}
	return entries, nil
}

// parseHeader checks a header against the length of the data that follows it, as the
// reference implementation does, and gives the metadata, the tensors (without data) and
// their offsets.
func parseHeader(header []byte, dataLen int64, name string) (*parsedHeader, error) {
	if !utf8.Valid(header) {
		return nil, formatErr(name, "header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, formatErr(name, "header is not a JSON object (it must start with '{')")
	}
	entries, err := objectEntries(header)
	if err != nil {
		return nil, &FormatError{Path: name, Msg: "header is not valid JSON", Err: err}
	}
	h := &parsedHeader{
		Metadata: make(map[string]string),
		Tensors:  make(map[string]Tensor, len(entries)),
		offsets:  make(map[string][2]int64, len(entries)),
	}
	for _, e := range entries {
		if e.Key == metadataKey {
			if err := parseMetadata(e.Value, h.Metadata); err != nil {
				return nil, &FormatError{Path: name, Msg: "__metadata__ is not an object of strings to strings", Err: err}
			}
			continue
		}
		t, off, err := parseTensorInfo(e.Value, dataLen)
		if err != nil {
			return nil, &FormatError{Path: name, Msg: fmt.Sprintf("tensor %q", e.Key), Err: err}
		}
		h.Tensors[e.Key] = t
		h.offsets[e.Key] = off
	}
	// Sorted by offsets, the tensors must tile the data exactly: no overlaps, no holes.
	names := make([]string, 0, len(h.offsets))
	for k := range h.offsets {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		oa, ob := h.offsets[a], h.offsets[b]
		switch {
		case oa[0] != ob[0]:
			return cmpInt64(oa[0], ob[0])
		case oa[1] != ob[1]:
			return cmpInt64(oa[1], ob[1])
		}
		return strings.Compare(a, b)
	})
	var pos int64
	prev := ""
	for _, k := range names {
		off := h.offsets[k]
		switch {
		case off[0] < pos:
			return nil, formatErr(name, "tensor %q (data_offsets [%d, %d]) overlaps tensor %q, which ends at %d", k, off[0], off[1], prev, pos)
		case off[0] > pos:
			return nil, formatErr(name, "gap of %d bytes before tensor %q (data_offsets [%d, %d]): the data must be contiguous", off[0]-pos, k, off[0], off[1])
		}
		pos, prev = off[1], k
	}
	if pos != dataLen {
		return nil, formatErr(name, "%d bytes of data after the last tensor (which ends at %d of %d) are not covered by any tensor", dataLen-pos, pos, dataLen)
	}
	return h, nil
}

func cmpInt64(a, b int64) int {
	if a < b {
		return -1
	}
	return 1
}

// parseMetadata fills md from the raw "__metadata__" value: null or an object of strings.
func parseMetadata(raw json.RawMessage, md map[string]string) error {
	if string(raw) == "null" {
		return nil
	}
	entries, err := objectEntries(raw)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if len(e.Value) == 0 || e.Value[0] != '"' {
			return fmt.Errorf("value of %q is not a string", e.Key)
		}
		var s string
		if err := json.Unmarshal(e.Value, &s); err != nil {
			return fmt.Errorf("value of %q: %w", e.Key, err)
		}
		md[e.Key] = s
	}
	return nil
}

// parseTensorInfo checks one tensor's header entry: {"dtype": ..., "shape": [...],
// "data_offsets": [begin, end]}, with offsets relative to the data of length dataLen.
func parseTensorInfo(raw json.RawMessage, dataLen int64) (Tensor, [2]int64, error) {
	var off [2]int64
	entries, err := objectEntries(raw)
	if err != nil {
		return Tensor{}, off, fmt.Errorf("entry: %w", err)
	}
	var dtRaw, shapeRaw, offRaw json.RawMessage
	for _, e := range entries {
		switch e.Key {
		case "dtype":
			dtRaw = e.Value
		case "shape":
			shapeRaw = e.Value
		case "data_offsets":
			offRaw = e.Value
		}
	}
	if dtRaw == nil || shapeRaw == nil || offRaw == nil {
		return Tensor{}, off, errors.New("entry needs dtype, shape and data_offsets")
	}
	var dt string
	if len(dtRaw) == 0 || dtRaw[0] != '"' || json.Unmarshal(dtRaw, &dt) != nil {
		return Tensor{}, off, fmt.Errorf("dtype %s is not a string", dtRaw)
	}
	t := Tensor{DType: DType(dt)}
	if !t.DType.Valid() {
		return Tensor{}, off, fmt.Errorf("unknown dtype %q", dt)
	}
	dims, err := parseUints(shapeRaw)
	if err != nil {
		return Tensor{}, off, fmt.Errorf("shape %s: %w", shapeRaw, err)
	}
	t.Shape = make([]int, len(dims))
	for i, d := range dims {
		if d > math.MaxInt {
			return Tensor{}, off, fmt.Errorf("shape %s: dimension %d is too large", shapeRaw, d)
		}
		t.Shape[i] = int(d)
	}
	n, err := numElements(t.Shape)
	if err != nil {
		return Tensor{}, off, err
	}
	hi, nbytes := bits.Mul64(uint64(n), uint64(t.DType.Size()))
	if hi != 0 || nbytes > math.MaxInt64 {
		return Tensor{}, off, fmt.Errorf("shape %v: byte count overflows", t.Shape)
	}
	offs, err := parseUints(offRaw)
	if err != nil || len(offs) != 2 {
		return Tensor{}, off, fmt.Errorf("data_offsets %s must be two non-negative integers [begin, end]", offRaw)
	}
	if offs[0] > offs[1] {
		return Tensor{}, off, fmt.Errorf("data_offsets [%d, %d] are not increasing", offs[0], offs[1])
	}
	if offs[1] > uint64(dataLen) {
		return Tensor{}, off, fmt.Errorf("data_offsets [%d, %d] are out of range: they run past the end of the data (%d bytes)", offs[0], offs[1], dataLen)
	}
	if got := offs[1] - offs[0]; got != nbytes {
		return Tensor{}, off, fmt.Errorf("data_offsets [%d, %d] span %d bytes, but %s %v needs %d bytes", offs[0], offs[1], got, t.DType, t.Shape, nbytes)
	}
	off = [2]int64{int64(offs[0]), int64(offs[1])}
	return t, off, nil
}

// parseUints parses a JSON array of non-negative integers written without fraction or exponent.
func parseUints(raw json.RawMessage) ([]uint64, error) {
	var items []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' {
		return nil, errors.New("not a JSON array")
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	out := make([]uint64, len(items))
	for i, it := range items {
		s := string(it)
		if strings.HasPrefix(s, "-") {
			return nil, fmt.Errorf("%s is negative", s)
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a non-negative integer", s)
		}
		out[i] = v
	}
	return out, nil
}

// Encode writes f in the safetensors format: the header (metadata first, then the tensors
// in sorted name order with contiguous data offsets), padded with spaces to a multiple of
// 8 bytes as the reference implementation does, then the tensor data in the same order.
// Every tensor is checked before anything is written.
func Encode(w io.Writer, f *File) error {
	header, err := encodeHeader(f)
	if err != nil {
		return err
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, name := range f.Names() {
		if _, err := w.Write(f.Tensors[name].Data); err != nil {
			return err
		}
	}
	return nil
}

// encodeHeader checks f and gives its padded JSON header.
func encodeHeader(f *File) ([]byte, error) {
	if f == nil {
		return nil, errors.New("weights: encode: nil File")
	}
	for k, v := range f.Metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("weights: encode: metadata %q is not valid UTF-8", k)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	md := f.Metadata
	if md == nil {
		md = map[string]string{}
	}
	buf.WriteString(`{"__metadata__":`)
	if err := enc.Encode(md); err != nil { // sorted keys
		return nil, fmt.Errorf("weights: encode: metadata: %w", err)
	}
	trimNewline(&buf)
	var off uint64
	for _, name := range f.Names() {
		t := f.Tensors[name]
		if name == metadataKey {
			return nil, fmt.Errorf("weights: encode: %q cannot name a tensor", name)
		}
		if !utf8.ValidString(name) {
			return nil, fmt.Errorf("weights: encode: tensor name %q is not valid UTF-8", name)
		}
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("weights: encode: tensor %q: %w", name, err)
		}
		buf.WriteByte(',')
		if err := enc.Encode(name); err != nil {
			return nil, err
		}
		trimNewline(&buf)
		buf.WriteString(`:{"dtype":"`)
		buf.WriteString(string(t.DType))
		buf.WriteString(`","shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.Itoa(d))
		}
		end := off + uint64(len(t.Data))
		fmt.Fprintf(&buf, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	if buf.Len() > MaxHeaderSize {
		return nil, fmt.Errorf("weights: encode: header of %d bytes is larger than readers accept (%d)", buf.Len(), MaxHeaderSize)
	}
	return buf.Bytes(), nil
}

// trimNewline drops the newline that json.Encoder writes after each value.
func trimNewline(buf *bytes.Buffer) {
	if b := buf.Bytes(); len(b) > 0 && b[len(b)-1] == '\n' {
		buf.Truncate(len(b) - 1)
	}
}

// WriteFile writes f to path in the safetensors format (see Encode), atomically: the bytes
// go to a temporary file in the same directory, which is synced and renamed over path. On
// any error the temporary file is removed and an existing file at path is left untouched.
// A file that is replaced keeps its permissions; a symbolic link at path is replaced by the
// new file, not followed.
func WriteFile(path string, f *File) error {
	if _, err := encodeHeader(f); err != nil { // refuse bad tensors before touching the disk
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := Encode(bw, f); err != nil {
			return err
		}
		return bw.Flush()
	})
}
