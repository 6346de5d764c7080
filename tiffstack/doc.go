// Package tiffstack reads and writes multi-page TIFF files, the stacks that microscopes and
// ImageJ produce, one page at a time so that memory stays bounded by one page whatever the
// page count.
//
// Open reads only the header and the chain of image file directories (IFDs): the page
// count and each page's size and format are known before any pixel is decoded. Stack.Page
// decodes one page. The pixel decoding itself (strips and tiles; no compression, PackBits,
// LZW, Deflate, CCITT; 1, 8 and 16 bits; gray, paletted and RGB; the horizontal predictor)
// is golang.org/x/image/tiff's, which decodes only the first page of a file: this package
// hands it a view of the file whose header points at the wanted page's IFD. Before that it
// checks what x/image/tiff would trust: that every strip or tile lies inside the file, that
// compressed data could possibly hold the pixels the page claims (so a tiny file cannot make
// it allocate gigabytes), and that the page is within the pixel limit.
//
// Hostile or damaged files give an *Error naming the file and, where one is at fault, the
// page (numbered from 1, as ImageJ numbers slices). A broken chain of IFDs keeps the pages
// before the break: Open returns them together with the error. A page whose data is bad
// fails in Stack.Page alone; the other pages still decode. Pages may differ in size and
// format: Stack.Pages reports each, and the caller decides whether that is acceptable.
//
// Writer appends pages one at a time to an io.Writer (no seeking: each page's IFD follows
// its data, and is written once the next page's position is known), and WriteFile does so
// atomically through internal/atomicfile. It writes 8- and 16-bit gray and 8-bit RGB,
// uncompressed or Deflate-compressed, in strips of about 64 KiB, little-endian, classic
// (not Big) TIFF.
//
// Why a package of its own: golang.org/x/image/tiff, the maintained decoder, reads and
// writes the first page only. github.com/chai2010/tiff reads every page, but its API
// (DecodeAll, as its README shows) returns them all at once, the whole stack in memory, and
// it writes one image per file. So this package keeps x/image/tiff's decoders and adds the
// page layer around them, with its own small writer.
package tiffstack
