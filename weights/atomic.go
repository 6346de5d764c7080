package weights

import (
	"io"

	"github.com/segment-dev/segment/internal/atomicfile"
)

// writeAtomic writes a file at path with write, atomically (see package atomicfile), with
// the package's "weights: " in front of any error.
func writeAtomic(path string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return &wrapped{err}
	}
	return nil
}

// wrapped prefixes an error with the package name and keeps it for errors.Is and errors.As.
type wrapped struct{ err error }

func (w *wrapped) Error() string { return "weights: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
