package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segment-dev/segment/unet"
)

// tinyConfig is a small valid configuration for tests that need a whole model file.
func tinyConfig() unet.Config {
	return unet.Config{InChannels: 1, Classes: 1, Depth: 2, BaseChannels: 4, Skip: unet.SkipConcat, Norm: unet.NormBatch, Up: unet.UpTranspose}
}

// newModel makes a model, failing the test on error.
func newModel(t testing.TB, cfg unet.Config, seed int64) *unet.Model {
	t.Helper()
	m, err := unet.New(cfg, seed)
	if err != nil {
		t.Fatalf("unet.New(%s): %v", cfg, err)
	}
	return m
}

// savedBytes saves a model and meta to a temporary file and gives the file's bytes.
func savedBytes(t testing.TB, m *unet.Model, meta Meta) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.safetensors")
	if err := Save(p, m, meta); err != nil {
		t.Fatalf("Save: %v", err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawFile assembles a safetensors file from a header text (unpadded) and data.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

// splitFile gives the header of a valid safetensors file as a generic JSON map (numbers
// kept as json.Number) and the data that follows it.
func splitFile(t testing.TB, file []byte) (map[string]any, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(file)
	dec := json.NewDecoder(bytes.NewReader(file[8 : 8+n]))
	dec.UseNumber()
	var h map[string]any
	if err := dec.Decode(&h); err != nil {
		t.Fatalf("splitFile: %v", err)
	}
	return h, file[8+n:]
}

// rewrite changes the header of a valid safetensors file with edit (which may also give
// new data) and reassembles the file, with the header padded to a multiple of 8.
func rewrite(t testing.TB, file []byte, edit func(h map[string]any, data []byte) []byte) []byte {
	t.Helper()
	h, data := splitFile(t, file)
	data = edit(h, bytes.Clone(data))
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	return rawFile(string(hb), data)
}

// entry gives the header entry of a tensor in a map from splitFile.
func entry(t testing.TB, h map[string]any, name string) map[string]any {
	t.Helper()
	e, ok := h[name].(map[string]any)
	if !ok {
		t.Fatalf("no tensor %s in the header", name)
	}
	return e
}

// metadata gives the "__metadata__" map of a header from splitFile.
func metadata(h map[string]any) map[string]any { return h["__metadata__"].(map[string]any) }

// writeTemp writes b to a new file in a temporary directory and gives its path.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sameFile reports the first difference between two decoded files, or "".
func sameFile(a, b *File) string {
	if len(a.Metadata) != len(b.Metadata) {
		return "metadata differ in length"
	}
	for k, v := range a.Metadata {
		if w, ok := b.Metadata[k]; !ok || w != v {
			return "metadata " + k + " differs"
		}
	}
	if len(a.Tensors) != len(b.Tensors) {
		return "tensor counts differ"
	}
	for k, ta := range a.Tensors {
		tb, ok := b.Tensors[k]
		switch {
		case !ok:
			return "tensor " + k + " missing"
		case ta.DType != tb.DType:
			return "tensor " + k + " dtype differs"
		case !slices.Equal(ta.Shape, tb.Shape):
			return "tensor " + k + " shape differs"
		case !bytes.Equal(ta.Data, tb.Data):
			return "tensor " + k + " data differs"
		}
	}
	return ""
}
