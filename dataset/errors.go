package dataset

import "errors"

// Error is a problem with one file or folder of a data set. Its message is one line: the
// path, a colon, then the problem.
type Error struct {
	Path string // the file or folder at fault
	Err  error  // the problem: wraps one of the Err values below, or is a FormatError or UnsupportedError
}

// Error gives the message: the path, a colon, then the problem.
func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap gives the problem, so that errors.Is(err, ErrNoMask) and the like work.
func (e *Error) Unwrap() error { return e.Err }

// The kinds of problem an Error wraps. Their text starts the problem part of the message;
// details follow it.
var (
	ErrLayout     = errors.New("not a data set: want images/ and masks/, or train/ holding them")
	ErrEmpty      = errors.New("empty folder")
	ErrNoMask     = errors.New("image without mask")
	ErrNoImage    = errors.New("mask without image")
	ErrDuplicate  = errors.New("two files with the same stem")
	ErrSize       = errors.New("mask size differs from its image")
	ErrTooLarge   = errors.New("image too large")
	ErrChannels   = errors.New("images differ in channels")
	ErrValues     = errors.New("mask has more distinct values than classes")
	ErrOneValue   = errors.New("nothing to learn")
	ErrBadOptions = errors.New("bad options")
	ErrStack      = errors.New("multi-page TIFF")
)

// FormatError says a file is not a valid image: it is truncated, corrupt or of an unknown
// format.
type FormatError string

// Error gives the message, which starts "unreadable image: ".
func (e FormatError) Error() string { return "unreadable image: " + string(e) }

// UnsupportedError says a file is a valid image that this package cannot use.
type UnsupportedError string

// Error gives the message, which starts "unsupported image: ".
func (e UnsupportedError) Error() string { return "unsupported image: " + string(e) }

func fileError(path string, err error) *Error { return &Error{Path: path, Err: err} }
