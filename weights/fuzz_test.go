package weights

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode. It must never panic, and a file it accepts
// must encode again and decode to the same metadata and tensors.
func FuzzDecode(f *testing.F) {
	seed := func(file *File) {
		var buf bytes.Buffer
		if err := Encode(&buf, file); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	seed(&File{})
	seed(&File{Metadata: map[string]string{"format": "segment-unet", "format_version": "1"}})
	seed(&File{Tensors: map[string]Tensor{"x": NewFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})}})
	seed(&File{Tensors: map[string]Tensor{
		"a": {U8, []int{3}, []byte{1, 2, 3}},
		"b": {F16, []int{1}, []byte{0, 0x3c}},
		"c": {I64, nil, make([]byte, 8)},
		"d": {F32, []int{0, 4}, nil},
	}})
	m, err := Decode(bytes.NewReader(nil), 0, "")
	if err == nil || m != nil {
		f.Fatal("Decode accepted nothing")
	}
	f.Add(rawFile(`{"__metadata__":null,"t":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}`, []byte{0, 1}))
	f.Add(rawFile(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"u":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, file); err != nil {
			t.Fatalf("an accepted file does not encode: %v", err)
		}
		again, err := Decode(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "re-encoded")
		if err != nil {
			t.Fatalf("a re-encoded file does not decode: %v", err)
		}
		if d := sameFile(file, again); d != "" {
			t.Fatalf("decode(encode(decode(data))) differs from decode(data): %s", d)
		}
	})
}
