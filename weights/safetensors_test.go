package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/internal/sharedtest"
)

func TestDTypeSize(t *testing.T) {
	tests := []struct {
		d    DType
		size int
	}{
		{F32, 4}, {F64, 8}, {F16, 2}, {BF16, 2}, {I64, 8}, {I32, 4}, {I16, 2}, {I8, 1}, {U8, 1}, {BOOL, 1},
		{U16, 2}, {U32, 4}, {U64, 8}, {F8E4M3, 1}, {F8E5M2, 1},
		{"F33", 0}, {"f32", 0}, {"", 0},
	}
	for _, tt := range tests {
		if got := tt.d.Size(); got != tt.size {
			t.Errorf("%q.Size() = %d, want %d", tt.d, got, tt.size)
		}
		if got := tt.d.Valid(); got != (tt.size > 0) {
			t.Errorf("%q.Valid() = %v", tt.d, got)
		}
	}
}

func le16(vs ...uint16) []byte {
	b := make([]byte, 2*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func le64f(vs ...float64) []byte {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

func TestFloat32(t *testing.T) {
	tests := []struct {
		name string
		t    Tensor
		want []uint32 // float32 bits
		err  string
	}{
		{"F32 bits kept", Tensor{F32, []int{4}, []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x80, 1, 0, 0xc0, 0x7f, 1, 0, 0, 0}},
			[]uint32{0x3f800000, 0x80000000, 0x7fc00001, 0x00000001}, ""},
		{"F64 rounded", Tensor{F64, []int{2, 2}, le64f(1, -2.5, 1.0/3, math.Inf(-1))},
			[]uint32{0x3f800000, 0xc0200000, math.Float32bits(float32(1.0 / 3)), 0xff800000}, ""},
		// F16: 1, -2, 65504 (largest), 2^-24 (smallest subnormal), 0x03ff (largest subnormal), -0, +Inf, NaN with payload.
		{"F16 exact", Tensor{F16, []int{8}, le16(0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x8000, 0x7c00, 0x7e01)},
			[]uint32{0x3f800000, 0xc0000000, math.Float32bits(65504), math.Float32bits(0x1p-24), math.Float32bits(1023 * 0x1p-24), 0x80000000, 0x7f800000, 0x7fc02000}, ""},
		{"F16 negative subnormal", Tensor{F16, []int{1}, le16(0x8001)}, []uint32{math.Float32bits(-0x1p-24)}, ""},
		{"BF16 exact", Tensor{BF16, []int{3}, le16(0x3f80, 0xc040, 0x7f80)}, []uint32{0x3f800000, 0xc0400000, 0x7f800000}, ""},
		{"scalar", Tensor{F32, nil, []byte{0, 0, 0x40, 0x40}}, []uint32{0x40400000}, ""},
		{"empty", Tensor{F32, []int{0, 3}, nil}, []uint32{}, ""},
		{"I64 refused", Tensor{I64, []int{1}, make([]byte, 8)}, nil, "does not convert to float32"},
		{"U8 refused", Tensor{U8, []int{1}, make([]byte, 1)}, nil, "does not convert to float32"},
		{"short data", Tensor{F32, []int{2}, make([]byte, 4)}, nil, "has 4 bytes"},
		{"unknown dtype", Tensor{"X", []int{1}, make([]byte, 4)}, nil, "unknown dtype"},
		{"negative shape", Tensor{F32, []int{-1}, nil}, nil, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Float32()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Float32() error = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			bitsOf := make([]uint32, len(got))
			for i, v := range got {
				bitsOf[i] = math.Float32bits(v)
			}
			if !slices.Equal(bitsOf, tt.want) {
				t.Errorf("Float32() bits = %#x, want %#x", bitsOf, tt.want)
			}
		})
	}
}

func TestNewFloat32(t *testing.T) {
	in := []float32{1, float32(math.Copysign(0, -1)), float32(math.NaN()), math.MaxFloat32}
	tn := NewFloat32([]int{2, 2}, in)
	if tn.DType != F32 || !slices.Equal(tn.Shape, []int{2, 2}) || len(tn.Data) != 16 || tn.NumElements() != 4 {
		t.Fatalf("NewFloat32 = %+v", tn)
	}
	out, err := tn.Float32()
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if math.Float32bits(in[i]) != math.Float32bits(out[i]) {
			t.Errorf("element %d: %#x, want %#x", i, math.Float32bits(out[i]), math.Float32bits(in[i]))
		}
	}
	if n := (Tensor{Shape: []int{math.MaxInt, 2}}).NumElements(); n != -1 {
		t.Errorf("NumElements of an overflowing shape = %d, want -1", n)
	}
}

// mixedFile holds one tensor of every dtype, a scalar, empty tensors and odd metadata.
func mixedFile() *File {
	f := &File{
		Metadata: map[string]string{"a": "1", "html": "<b>&</b>", "unicode": "çà ✓", "quote": `"x"\n`},
		Tensors:  map[string]Tensor{},
	}
	i := 0
	for d, size := range dtypeSizes {
		data := make([]byte, 3*size)
		for j := range data {
			data[j] = byte(i*31 + j)
		}
		f.Tensors["t."+string(d)] = Tensor{d, []int{3, 1}, data}
		i++
	}
	f.Tensors["scalar"] = NewFloat32(nil, []float32{7})
	f.Tensors["empty"] = Tensor{F32, []int{0}, nil}
	f.Tensors["empty2"] = Tensor{I64, []int{2, 0, 5}, []byte{}}
	f.Tensors["ünï"] = NewFloat32([]int{1, 2}, []float32{1, 2})
	return f
}

func TestEncodeDecode(t *testing.T) {
	f := mixedFile()
	var buf bytes.Buffer
	if err := Encode(&buf, f); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	header := string(b[8 : 8+n])
	if !strings.HasPrefix(header, `{"__metadata__":{`) {
		t.Errorf("header does not start with the metadata: %.40q", header)
	}
	if trimmed := strings.TrimRight(header, " "); len(header)-len(trimmed) >= 8 || !strings.HasSuffix(trimmed, "}") {
		t.Errorf("header padding wrong: %q", header[len(trimmed)-1:])
	}
	// Tensors appear in sorted name order, with contiguous offsets.
	h, data := splitFile(t, b)
	var end int64
	for _, name := range f.Names() {
		offs := entry(t, h, name)["data_offsets"].([]any)
		begin, _ := offs[0].(json.Number).Int64()
		stop, _ := offs[1].(json.Number).Int64()
		if begin != end {
			t.Errorf("tensor %s begins at %d, want %d", name, begin, end)
		}
		if !bytes.Equal(data[begin:stop], f.Tensors[name].Data) {
			t.Errorf("tensor %s: data at its offsets differ", name)
		}
		end = stop
	}
	if end != int64(len(data)) {
		t.Errorf("tensors end at %d, data is %d bytes", end, len(data))
	}

	got, err := Decode(bytes.NewReader(b), int64(len(b)), "mem")
	if err != nil {
		t.Fatal(err)
	}
	if d := sameFile(f, got); d != "" {
		t.Fatalf("decoded file differs: %s", d)
	}
	// One tensor's data cannot grow into the next's.
	a := got.Tensors["t.U8"]
	_ = append(a.Data, 0xff)
	if again, _ := Decode(bytes.NewReader(b), int64(len(b)), "mem"); sameFile(again, got) != "" {
		t.Error("appending to a decoded tensor's data changed another tensor")
	}
	// A file with no tensors and no metadata.
	empty := rawFile("{}      ", nil)
	ef, err := Decode(bytes.NewReader(empty), int64(len(empty)), "empty")
	if err != nil || len(ef.Tensors) != 0 || ef.Metadata == nil {
		t.Errorf("Decode of {} = %+v, %v; want no tensors and empty metadata", ef, err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	tests := []struct {
		name string
		f    *File
		want string
	}{
		{"nil file", nil, "nil File"},
		{"short data", &File{Tensors: map[string]Tensor{"x": {F32, []int{2}, make([]byte, 7)}}}, `tensor "x": has 7 bytes`},
		{"unknown dtype", &File{Tensors: map[string]Tensor{"x": {"F7", []int{1}, make([]byte, 1)}}}, "unknown dtype"},
		{"negative dim", &File{Tensors: map[string]Tensor{"x": {F32, []int{-1}, nil}}}, "negative dimension"},
		{"overflow", &File{Tensors: map[string]Tensor{"x": {F32, []int{math.MaxInt / 2, 4}, nil}}}, "element count overflows"},
		{"byte count overflow", &File{Tensors: map[string]Tensor{"x": {F64, []int{math.MaxInt / 2}, nil}}}, "has 0 bytes"},
		{"reserved name", &File{Tensors: map[string]Tensor{"__metadata__": NewFloat32([]int{1}, []float32{1})}}, "cannot name a tensor"},
		{"bad UTF-8 name", &File{Tensors: map[string]Tensor{"\xff": NewFloat32([]int{1}, []float32{1})}}, "not valid UTF-8"},
		{"bad UTF-8 metadata", &File{Metadata: map[string]string{"k": "\xfe"}}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Encode(&buf, tt.f)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Encode error = %v, want one containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Encode wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

// TestFixtureRoundTrip reads every safetensors file of the reference fixtures and models,
// writes it back and reads it again: same metadata, same tensors byte for byte.
func TestFixtureRoundTrip(t *testing.T) {
	shared := sharedtest.Dir(t)
	paths, _ := filepath.Glob(filepath.Join(shared, "fixtures", "torch-reference", "*", "*.safetensors"))
	paths = append(paths, filepath.Join(shared, "models", "isbi-unet-b32-torch.safetensors"))
	if len(paths) < 2 {
		t.Skip("../shared is missing the torch-reference fixtures")
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(shared, p)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			if _, err := os.Stat(p); err != nil {
				t.Skipf("../shared is missing %s", rel)
			}
			f, err := ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) == 0 || len(f.Metadata) == 0 {
				t.Fatalf("%s: %d tensors, %d metadata keys; the fixtures have both", rel, len(f.Tensors), len(f.Metadata))
			}
			out := filepath.Join(t.TempDir(), "copy.safetensors")
			if err := WriteFile(out, f); err != nil {
				t.Fatal(err)
			}
			g, err := ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameFile(f, g); d != "" {
				t.Fatalf("round trip differs: %s", d)
			}
			// The files' sizes differ only by the header: the data are the same bytes.
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(out)
			da := a[8+binary.LittleEndian.Uint64(a):]
			db := b[8+binary.LittleEndian.Uint64(b):]
			if len(da) != len(db) {
				t.Errorf("data sections are %d and %d bytes", len(da), len(db))
			}
		})
	}
}

// brokenCase is a corrupted file and the phrase its error must contain.
type brokenCase struct {
	name string
	file []byte
	want string
}

// brokenSafetensors builds files that are not valid safetensors from a valid model file.
func brokenSafetensors(t *testing.T, base []byte) []brokenCase {
	n := int(binary.LittleEndian.Uint64(base))
	withLen := func(v uint64) []byte {
		b := bytes.Clone(base)
		binary.LittleEndian.PutUint64(b, v)
		return b
	}
	edit := func(name string, f func(e map[string]any)) []byte {
		return rewrite(t, base, func(h map[string]any, data []byte) []byte { f(entry(t, h, name)); return data })
	}
	offsetsOf := func(name string) []any {
		h, _ := splitFile(t, base)
		return entry(t, h, name)["data_offsets"].([]any)
	}
	dataLen := len(base) - 8 - n
	return []brokenCase{
		{"empty", nil, "too short"},
		{"7 bytes", base[:7], "too short"},
		{"truncated in the header", base[:8+n/2], "runs past the end of the file"},
		{"truncated after the header", base[:8+n], "out of range"},
		{"truncated in the data", base[:8+n+dataLen/2], "out of range"},
		{"last 4 bytes cut", base[:len(base)-4], "out of range"},
		// One byte short: the last tensor's end offset is exactly one past the data, the
		// edge an off-by-one in the range check lets through.
		{"last byte cut", base[:len(base)-1], fmt.Sprintf("run past the end of the data (%d bytes)", dataLen-1)},
		{"header length huge", withLen(1 << 40), "absurd"},
		{"header length max uint64", withLen(math.MaxUint64), "absurd"},
		{"header length just past the file", withLen(uint64(len(base) - 7)), "runs past the end of the file"},
		{"header not an object", rawFile(`["a"]   `, nil), "not a JSON object"},
		{"header JSON syntax", rawFile(`{"a":{"dtype":"F32",}}`, nil), "header is not valid JSON"},
		{"header trailing garbage", rawFile(`{} x`, nil), "header is not valid JSON"},
		{"header two objects", rawFile(`{}{}`, nil), "header is not valid JSON"},
		{"header invalid UTF-8", rawFile("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"duplicate tensor", rawFile(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, []byte{1, 2}), `duplicate key "a"`},
		{"metadata value not a string", rewrite(t, base, func(h map[string]any, d []byte) []byte { metadata(h)["format"] = json.Number("1"); return d }), "__metadata__ is not an object of strings to strings"},
		{"metadata not an object", rewrite(t, base, func(h map[string]any, d []byte) []byte { h["__metadata__"] = []any{}; return d }), "__metadata__ is not an object"},
		{"tensor entry empty", edit("head.bias", func(e map[string]any) { clear(e) }), "needs dtype, shape and data_offsets"},
		{"tensor entry not an object", rewrite(t, base, func(h map[string]any, d []byte) []byte { h["head.bias"] = 5; return d }), `tensor "head.bias": entry: not a JSON object`},
		{"unknown dtype", edit("head.bias", func(e map[string]any) { e["dtype"] = "F33" }), `unknown dtype "F33"`},
		{"dtype not a string", edit("head.bias", func(e map[string]any) { e["dtype"] = 4 }), "dtype 4 is not a string"},
		{"negative dimension", edit("head.bias", func(e map[string]any) { e["shape"] = []any{-1} }), "negative"},
		{"fractional dimension", edit("head.bias", func(e map[string]any) { e["shape"] = []any{json.Number("1.0")} }), "not a non-negative integer"},
		{"element count overflows", edit("head.bias", func(e map[string]any) { e["shape"] = []any{1 << 32, 1 << 32} }), "element count overflows"},
		{"byte count overflows", edit("head.bias", func(e map[string]any) { e["shape"] = []any{1 << 31, 1 << 31} }), "byte count overflows"},
		{"dimension too large", edit("head.bias", func(e map[string]any) { e["shape"] = []any{json.Number("18446744073709551615")} }), "too large"},
		{"data_offsets three numbers", edit("head.bias", func(e map[string]any) { e["data_offsets"] = append(offsetsOf("head.bias"), 0) }), "two non-negative integers"},
		{"data_offsets not numbers", edit("head.bias", func(e map[string]any) { e["data_offsets"] = []any{"0", "4"} }), "two non-negative integers"},
		{"data_offsets decreasing", edit("head.bias", func(e map[string]any) { o := offsetsOf("head.bias"); e["data_offsets"] = []any{o[1], o[0]} }), "not increasing"},
		{"data_offsets out of range", edit("head.bias", func(e map[string]any) { e["data_offsets"] = []any{dataLen, dataLen + 4} }), "out of range"},
		{"data_offsets huge", edit("head.bias", func(e map[string]any) { e["data_offsets"] = []any{0, json.Number("99999999999999999999")} }), "two non-negative integers"},
		{"byte length does not match shape", edit("head.bias", func(e map[string]any) { e["shape"] = []any{2} }), "span 4 bytes, but F32 [2] needs 8 bytes"},
		{"byte length does not match dtype", edit("head.bias", func(e map[string]any) { e["dtype"] = "F64" }), "needs 8 bytes"},
		{"overlapping offsets", edit("encoder.0.norm1.weight", func(e map[string]any) { e["data_offsets"] = offsetsOf("encoder.0.norm1.bias") }), `overlaps tensor "encoder.0.norm1.bias"`},
		// By one byte: the edge an off-by-one in the overlap check lets through (the data's
		// total length still matches).
		{"overlapping by one byte", rawFile(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, []byte{1, 2, 3}), `tensor "b" (data_offsets [1, 3]) overlaps tensor "a", which ends at 2`},
		{"hole between tensors", rewrite(t, base, func(h map[string]any, d []byte) []byte { delete(h, "encoder.0.conv1.weight"); return d }), "gap of 144 bytes"},
		{"hole at the start", rewrite(t, base, func(h map[string]any, d []byte) []byte { delete(h, "decoder.0.conv1.weight"); return d }), "gap of"},
		{"last tensor dropped", rewrite(t, base, func(h map[string]any, d []byte) []byte { delete(h, "head.weight"); return d }), "not covered by any tensor"},
		{"trailing bytes", append(bytes.Clone(base), 0, 0, 0, 0, 0, 0, 0, 0), "8 bytes of data after the last tensor"},
	}
}

func TestDecodeRejects(t *testing.T) {
	base := savedBytes(t, newModel(t, tinyConfig(), 1), Meta{})
	for _, tc := range brokenSafetensors(t, base) {
		t.Run(tc.name, func(t *testing.T) {
			p := writeTemp(t, "broken.safetensors", tc.file)
			f, err := ReadFile(p)
			if err == nil {
				t.Fatalf("ReadFile accepted the file: %d tensors", len(f.Tensors))
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if fe.Path != p || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file %s", err, p)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			// Load reports the same problem.
			if _, _, lerr := Load(p); lerr == nil || lerr.Error() != err.Error() {
				t.Errorf("Load error = %v, want %v", lerr, err)
			}
		})
	}
}

func TestReadFileIOErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(filepath.Join(dir, "absent.safetensors")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want fs.ErrNotExist", err)
	}
	_, err := ReadFile(dir)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile of a directory: %v, want a FormatError saying it is not a regular file", err)
	}
}

// failingReader fails every read after the first n bytes.
type failingReader struct {
	b []byte
	n int64
}

var errDisk = errors.New("disk on fire")

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.n {
		return 0, errDisk
	}
	return copy(p, r.b[off:]), nil
}

func TestDecodeReaderErrors(t *testing.T) {
	base := savedBytes(t, newModel(t, tinyConfig(), 1), Meta{})
	n := int64(binary.LittleEndian.Uint64(base))
	for _, upto := range []int64{0, 8, 8 + n} {
		_, err := Decode(failingReader{base, upto}, int64(len(base)), "disk.safetensors")
		if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "disk.safetensors") {
			t.Errorf("reader failing after %d bytes: error %v, want one wrapping %v and naming the file", upto, err, errDisk)
		}
	}
}

// listDir gives the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	good := &File{Metadata: map[string]string{"v": "new"}, Tensors: map[string]Tensor{"x": NewFloat32([]int{2}, []float32{1, 2})}}
	old := []byte("old content, not to be lost")

	t.Run("replaces and keeps permissions", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "m.safetensors")
		if err := os.WriteFile(p, old, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o640); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(p, good); err != nil {
			t.Fatal(err)
		}
		f, err := ReadFile(p)
		if err != nil || f.Metadata["v"] != "new" {
			t.Fatalf("after WriteFile: %+v, %v", f, err)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, want 0640 as before", st.Mode().Perm())
		}
		if names := listDir(t, dir); !slices.Equal(names, []string{"m.safetensors"}) {
			t.Errorf("directory holds %q, want only the file", names)
		}
	})

	t.Run("relative path", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		if err := WriteFile("rel.safetensors", good); err != nil {
			t.Fatal(err)
		}
		if names := listDir(t, dir); !slices.Equal(names, []string{"rel.safetensors"}) {
			t.Errorf("directory holds %q", names)
		}
	})

	failures := []struct {
		name  string
		setup func(t *testing.T, dir string) (path string, hook func(string) error)
		file  *File
		want  string
	}{
		{"failure just before rename", func(t *testing.T, dir string) (string, func(string) error) {
			p := filepath.Join(dir, "m.safetensors")
			return p, func(tmp string) error {
				if filepath.Dir(tmp) != dir {
					t.Errorf("temporary file %s is not in %s", tmp, dir)
				}
				f, err := ReadFile(tmp)
				if err != nil || f.Metadata["v"] != "new" {
					t.Errorf("temporary file before rename: %v, %v; want the complete new file", f, err)
				}
				return errDisk
			}
		}, good, "disk on fire"},
		{"rename over a directory", func(t *testing.T, dir string) (string, func(string) error) {
			p := filepath.Join(dir, "m.safetensors")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, "inside"), old, 0o644); err != nil {
				t.Fatal(err)
			}
			return p, nil
		}, good, "m.safetensors"},
		{"directory does not exist", func(t *testing.T, dir string) (string, func(string) error) {
			return filepath.Join(dir, "no", "such", "dir", "m.safetensors"), nil
		}, good, "no such file or directory"},
		{"parent is a file", func(t *testing.T, dir string) (string, func(string) error) {
			return filepath.Join(dir, "existing", "m.safetensors"), nil
		}, good, "not a directory"},
		{"read-only directory", func(t *testing.T, dir string) (string, func(string) error) {
			readOnlyDir(t, dir)
			return filepath.Join(dir, "existing"), nil
		}, good, "permission denied|read-only file system|operation not permitted"},
		{"invalid tensor", func(t *testing.T, dir string) (string, func(string) error) {
			return filepath.Join(dir, "existing"), nil
		}, &File{Tensors: map[string]Tensor{"x": {F32, []int{3}, make([]byte, 4)}}}, "has 4 bytes"},
		{"no file name", func(t *testing.T, dir string) (string, func(string) error) {
			return dir + string(filepath.Separator), nil
		}, good, "no file name"},
	}
	for _, tt := range failures {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			existing := filepath.Join(dir, "existing")
			if err := os.WriteFile(existing, old, 0o644); err != nil {
				t.Fatal(err)
			}
			path, hook := tt.setup(t, dir)
			before := listDir(t, dir)
			if hook != nil {
				defer atomicfile.SetBeforeRenameHook(hook)()
			}
			err := WriteFile(path, tt.file)
			if err == nil || !containsAny(err.Error(), strings.Split(tt.want, "|")) {
				t.Fatalf("WriteFile error = %v, want one containing %q", err, tt.want)
			}
			if hook != nil && !errors.Is(err, errDisk) {
				t.Errorf("error %v does not wrap the failure", err)
			}
			if b, _ := os.ReadFile(existing); !bytes.Equal(b, old) {
				t.Errorf("existing file changed to %q", b)
			}
			if hook != nil {
				if b, _ := os.ReadFile(path); b != nil {
					t.Errorf("destination was written: %d bytes", len(b))
				}
			}
			if after := listDir(t, dir); !slices.Equal(after, before) {
				t.Errorf("directory held %q, now %q: a temporary file was left behind", before, after)
			}
			if st, err := os.Stat(filepath.Join(dir, "m.safetensors")); err == nil && st.IsDir() {
				if names := listDir(t, filepath.Join(dir, "m.safetensors")); !slices.Equal(names, []string{"inside"}) {
					t.Errorf("directory at the destination now holds %q", names)
				}
			}
		})
	}
}

func TestDecodeHeaderJSON(t *testing.T) {
	u8 := func(name string, begin int) string {
		return fmt.Sprintf(`%s:{"dtype":"U8","shape":[1],"data_offsets":[%d,%d]}`, name, begin, begin+1)
	}
	tests := []struct {
		name   string
		header string
		data   []byte
		want   string // error phrase; "" to accept
		names  []string
	}{
		{"metadata null", `{"__metadata__":null,` + u8(`"a"`, 0) + `}`, []byte{1}, "", []string{"a"}},
		{"unknown entry fields ignored", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":[1,{}]}}`, []byte{1}, "", []string{"a"}},
		{"escaped name", `{"\u00e9\n":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}, "", []string{"é\n"}},
		{"padding with spaces, tabs and newlines", `{}` + " \t\r\n", nil, "", nil},
		{"escape equal to a plain name", `{` + u8(`"a"`, 0) + `,` + u8(`"\u0061"`, 1) + `}`, []byte{1, 2}, `duplicate key "a"`, nil},
		{"lone surrogates collide", `{` + u8(`"\ud800"`, 0) + `,` + u8(`"\udc00"`, 1) + `}`, []byte{1, 2}, "duplicate key", nil},
		{"duplicate metadata key", `{"__metadata__":{"k":"1","k":"2"}}`, nil, `duplicate key "k"`, nil},
		{"duplicate metadata", `{"__metadata__":{},"__metadata__":{}}`, nil, `duplicate key "__metadata__"`, nil},
		{"leading space", ` {}`, nil, "must start with '{'", nil},
		{"NUL padding", "{}\x00\x00", nil, "header is not valid JSON", nil},
		{"empty header", ``, nil, "must start with '{'", nil},
		{"deep nesting", `{"__metadata__":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, nil, "header is not valid JSON", nil},
		{"negative zero offset", `{"a":{"dtype":"U8","shape":[1],"data_offsets":[-0,1]}}`, []byte{1}, "two non-negative integers", nil},
		{"exponent dimension", `{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}`, []byte{1}, "1e0 is not a non-negative integer", nil},
		{"zero-size tensors share an offset", `{` + `"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"F32","shape":[2,0],"data_offsets":[0,0]},` + u8(`"c"`, 0) + `}`, []byte{1}, "", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := rawFile(tt.header, tt.data)
			f, err := Decode(bytes.NewReader(b), int64(len(b)), "hdr.safetensors")
			if tt.want != "" {
				var fe *FormatError
				if err == nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "hdr.safetensors") {
					t.Fatalf("Decode error = %v, want a FormatError containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Names(); !slices.Equal(got, tt.names) {
				t.Errorf("names %q, want %q", got, tt.names)
			}
		})
	}
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}

// readOnlyDir makes dir unwritable for the rest of the test. Directory permissions do not
// stop root, which is how CI runs, so as root it makes dir a read-only bind mount of itself,
// or failing that sets the immutable attribute; where neither is permitted the test skips,
// saying so, and the skip list at the end of CI's log shows it did not run.
func readOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	run := func(name string, args ...string) error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	writable := func() bool {
		f, err := os.CreateTemp(dir, "probe")
		if err != nil {
			return false
		}
		f.Close()
		os.Remove(f.Name())
		return true
	}
	// Older kernels ignore ro on the first bind, hence the remount.
	errMount := run("mount", "--bind", dir, dir)
	if errMount == nil {
		t.Cleanup(func() {
			if err := run("umount", dir); err != nil {
				t.Errorf("undoing the read-only mount: %v", err)
			}
		})
		if errMount = run("mount", "-o", "remount,bind,ro", dir); errMount == nil && !writable() {
			return
		}
	}
	errAttr := run("chattr", "+i", dir)
	if errAttr == nil {
		t.Cleanup(func() {
			if err := run("chattr", "-i", dir); err != nil {
				t.Errorf("undoing chattr +i: %v", err)
			}
		})
		if !writable() {
			return
		}
	}
	t.Skipf("did not run: root ignores directory permissions, and neither a read-only bind mount (%v) nor chattr +i (%v) made %s read-only", errMount, errAttr, dir)
}
