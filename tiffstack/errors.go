package tiffstack

import (
	"errors"
	"strconv"
)

// Error is a problem with a TIFF file or one of its pages. Its message is one line: the
// path, the page when one is at fault, then the problem.
type Error struct {
	Path string // the file at fault
	Page int    // the page at fault, numbered from 1; 0 when the problem is the whole file's
	Err  error  // the problem: wraps one of the Err values below, or x/image/tiff's error
}

// Error gives the message, "PATH: page N: problem" or "PATH: problem".
func (e *Error) Error() string {
	if e.Page > 0 {
		return e.Path + ": page " + strconv.Itoa(e.Page) + ": " + e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap gives the problem, so that errors.Is(err, ErrTruncated) and the like work.
func (e *Error) Unwrap() error { return e.Err }

// The kinds of problem an Error wraps. Details follow them in the message.
var (
	ErrNotTIFF     = errors.New("not a TIFF file")
	ErrTruncated   = errors.New("truncated")
	ErrCorrupt     = errors.New("corrupt TIFF")
	ErrUnsupported = errors.New("unsupported TIFF")
	ErrTooLarge    = errors.New("page too large")
	ErrTooMany     = errors.New("too many pages")
	ErrMissing     = errors.New("pages missing")
)

// ErrPlanar is the problem of a page whose colour planes are stored apart (see
// Page.PlanesApart). An Error for it wraps ErrUnsupported too.
var ErrPlanar = errors.New("planar configuration 2 (colour planes stored apart) is not supported")
