package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/segment-dev/segment/internal/regular"
)

// ReadFile reads and checks the safetensors file at path. A file that is not valid
// safetensors, or that is not a regular file at all (a folder, a named pipe: refused before
// it is opened, see internal/regular), gives a *FormatError naming path; an error opening
// the file is the os package's, and an error reading it is wrapped with path.
func ReadFile(path string) (*File, error) {
	fh, err := regular.Open(path)
	if errors.Is(err, regular.ErrNotRegular) {
		var pe *fs.PathError
		errors.As(err, &pe)
		return nil, &FormatError{Path: path, Msg: "not a model file", Err: pe.Err}
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
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
