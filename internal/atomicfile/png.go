package atomicfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"

	"github.com/segment-dev/segment/internal/regular"
)

// pngEncoder favours speed: masks and charts compress well at any level, and the
// prediction of a huge image should not wait on deflate.
var pngEncoder = png.Encoder{CompressionLevel: png.BestSpeed}

// WritePNG writes img to path as a PNG file, atomically as Write does. It is the one PNG
// writer of the project: masks, probability maps, overlays and charts all go through it.
func WritePNG(path string, img image.Image) error {
	var g Group
	if err := g.WritePNG(path, img, ""); err != nil {
		return err
	}
	return g.Commit()
}

// pngSignature and the header chunk that follows it (length, type, 13 bytes, CRC) open
// every PNG file; a text chunk goes right after them.
const (
	pngSignature = "\x89PNG\r\n\x1a\n"
	pngHeadLen   = len(pngSignature) + 4 + 4 + 13 + 4
	softwareKey  = "Software"
)

// encodePNG encodes img, with a tEXt chunk "Software" holding software unless it is "".
func encodePNG(w io.Writer, img image.Image, software string) error {
	if software == "" {
		return pngEncoder.Encode(w, img)
	}
	data := append([]byte(softwareKey+"\x00"), software...)
	var chunk bytes.Buffer
	binary.Write(&chunk, binary.BigEndian, uint32(len(data)))
	chunk.WriteString("tEXt")
	chunk.Write(data)
	binary.Write(&chunk, binary.BigEndian, crc32.ChecksumIEEE(chunk.Bytes()[4:]))
	return pngEncoder.Encode(&afterHead{w: w, insert: chunk.Bytes()}, img)
}

// afterHead passes bytes through to w, inserting a chunk after the PNG's header chunk.
type afterHead struct {
	w      io.Writer
	n      int
	insert []byte
}

func (a *afterHead) Write(p []byte) (int, error) {
	written := 0
	if a.insert != nil && a.n+len(p) >= pngHeadLen {
		k := pngHeadLen - a.n
		if _, err := a.w.Write(p[:k]); err != nil {
			return 0, err
		}
		if _, err := a.w.Write(a.insert); err != nil {
			return k, err
		}
		a.insert, p, written, a.n = nil, p[k:], k, pngHeadLen
	}
	n, err := a.w.Write(p)
	a.n += n
	return written + n, err
}

// PNGSoftware reads the "Software" text of the PNG file at path, as WritePNG of a Group
// records it: "" when the file has none, an error when it is not a PNG file. It reads only
// the chunks before the pixels.
func PNGSoftware(path string) (string, error) {
	f, err := regular.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	r := io.LimitReader(f, 1<<20)
	sig := make([]byte, len(pngSignature))
	if _, err := io.ReadFull(r, sig); err != nil || string(sig) != pngSignature {
		return "", fmt.Errorf("%s: not a PNG file", path)
	}
	head := make([]byte, 8)
	for {
		if _, err := io.ReadFull(r, head); err != nil {
			return "", nil
		}
		n, typ := binary.BigEndian.Uint32(head), string(head[4:])
		if typ == "IDAT" || typ == "IEND" || n > 1<<16 {
			return "", nil
		}
		data := make([]byte, n+4) // and the CRC
		if _, err := io.ReadFull(r, data); err != nil {
			return "", nil
		}
		if key, val, ok := bytes.Cut(data[:n], []byte{0}); typ == "tEXt" && ok && string(key) == softwareKey {
			return string(val), nil
		}
	}
}

// errNilImage is the error of a write of no image.
var errNilImage = errors.New("nil image")
