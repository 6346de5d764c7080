// Package killpoint lets tests kill the process, as kill -9 would, at an exact point of its
// work: the kill tests of internal/reliability use it to interrupt training and prediction
// inside a checkpoint write, between a temporary file's write and its rename, or after a
// given training step, and check that what is left on disk loads and that a rerun finishes
// exactly as an uninterrupted run.
//
// It does nothing unless the environment variable SEGMENT_TEST_KILL_AT is set, to
// "POINT:N": then the Nth pass through Here(POINT) kills the process with SIGKILL. The
// points are:
//
//	step          a training step has updated the weights (train/loop.go)
//	write-begin   a file's temporary file is created, nothing written yet (internal/atomicfile)
//	write-rename  the temporary file is written and synced, not yet renamed
//	write-done    the file is renamed into place
//
// The write points count the writes of every file; "write-done:NAME" and the like count
// only those of files named NAME (the base name), so that "write-done:model.last.safetensors:2"
// kills right after the second rename of the last model.
package killpoint

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// Env is the environment variable that arms a point.
const Env = "SEGMENT_TEST_KILL_AT"

var (
	armed string // the point named by Env, "" when none
	at    int64  // the pass through it that kills
	hits  atomic.Int64
)

func init() {
	armed, at = parse(os.Getenv(Env))
}

// parse reads "POINT:N" (N at least 1); anything else arms nothing.
func parse(s string) (string, int64) {
	i := strings.LastIndex(s, ":")
	if i <= 0 {
		return "", 0
	}
	name, n := s[:i], s[i+1:]
	k, err := strconv.ParseInt(n, 10, 64)
	if err != nil || k < 1 {
		return "", 0
	}
	return name, k
}

// Here marks a pass through the point; on the pass Env names, the process is killed with
// SIGKILL (no deferred function, no cleanup runs: as kill -9 from outside).
func Here(point string) {
	if armed == "" || point != armed {
		return
	}
	hit()
}

// HereFor marks a pass through the point for the file of that base name: it counts both as
// POINT and as POINT:NAME.
func HereFor(point, name string) {
	if armed == "" || !strings.HasPrefix(armed, point) {
		return
	}
	if armed == point || armed == point+":"+name {
		hit()
	}
}

func hit() {
	if hits.Add(1) == at {
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Kill()
		}
		select {} // the signal is on its way
	}
}
