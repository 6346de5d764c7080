package weights

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
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
