package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/schollz/progressbar/v3"
)

// drive runs a bar of 50 steps on w, as the commands draw theirs.
func drive(w *Lines) {
	bar := progressbar.NewOptions(50, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(20), progressbar.OptionThrottle(0))
	for range 50 {
		bar.Add(1)
		bar.Describe("a.png 100%") // a description's own percentage is not the bar's
	}
	bar.Clear()
	bar.Finish()
}

// TestLines: a bar drawn on a non-terminal gives plain lines, no carriage returns or escape
// codes, the first state and the finished one, and not one line per redraw.
func TestLines(t *testing.T) {
	var buf bytes.Buffer
	drive(&Lines{W: &buf, Every: time.Hour})
	out := buf.String()
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("carriage returns or escapes in %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "1/50") || !strings.Contains(lines[1], "100%") || !strings.Contains(lines[1], "50/50") {
		t.Errorf("with an hour between lines, got %q; want the first state and the finished one", lines)
	}
	buf.Reset()
	drive(&Lines{W: &buf, Every: 0})
	if n := strings.Count(buf.String(), "\n"); n < 40 {
		t.Errorf("with no wait, %d lines for 50 steps: %q", n, buf.String())
	}
}

// TestWriterPassesTerminalOnly: a buffer is not a terminal, so it gets plain lines.
func TestWriterPassesTerminalOnly(t *testing.T) {
	var buf bytes.Buffer
	if _, ok := Writer(&buf).(*Lines); !ok {
		t.Errorf("Writer(buffer) is %T, want *Lines", Writer(&buf))
	}
}
