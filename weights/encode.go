package weights

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

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
