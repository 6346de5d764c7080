// Package progress makes progress bars readable where no one watches them redrawn: in a
// log file, a CI job or a pipe, a bar's carriage returns pile up into one enormous line.
// [Writer] passes a terminal through and turns a bar's redrawn line into a plain line
// every few seconds anywhere else.
package progress

import (
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Every is how often a plain line is written when the output is not a terminal.
const Every = 5 * time.Second

// Writer gives the writer a progress bar should draw on for w: w itself when it is a
// terminal, else a Lines writer that writes a plain line every Every.
func Writer(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return w
	}
	return &Lines{W: w, Every: Every}
}

// Lines turns a progress bar's output (its line redrawn after a carriage return, with
// terminal escape codes) into plain lines on W: the first state, then at most one line
// every Every, and the finished state (100%) whenever it comes.
type Lines struct {
	W     io.Writer
	Every time.Duration

	mu   sync.Mutex
	last time.Time
	line string // the last line written
}

var (
	// escapes matches the terminal escape sequences a bar may draw with.
	escapes = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")
	// finished matches a full bar's percentage, before the bar itself (a description
	// may hold a percentage of its own).
	finished = regexp.MustCompile(`(^|\s)100%\s*\|`)
)

func (l *Lines) Write(p []byte) (int, error) {
	s := string(p)
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 && strings.TrimSpace(s[i+1:]) == "" {
		// a clear ("\r   \r") or an ending newline: nothing of the bar's state
		s = strings.TrimRight(s, " \r\n")
	}
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(escapes.ReplaceAllString(s, ""))
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	done := finished.MatchString(s)
	if s == "" || s == l.line || (!done && !l.last.IsZero() && now.Sub(l.last) < l.Every) {
		return len(p), nil
	}
	l.last, l.line = now, s
	if _, err := io.WriteString(l.W, s+"\n"); err != nil {
		return 0, err
	}
	return len(p), nil
}
