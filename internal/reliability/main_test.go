package reliability

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// bin is the segment binary the tests run, built once by TestMain.
var bin string

// tmpRoot is the test run's scratch folder, removed at the end: the binary and the fixtures.
var tmpRoot string

// moduleRoot is the folder holding go.mod, found from the test's working directory.
var moduleRoot string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "segment-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	tmpRoot = dir
	moduleRoot, err = findModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bin = filepath.Join(dir, "segment")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/segment")...)
	build.Dir = moduleRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/segment: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// statSources stats every file of the module. The binary under test is built from them, but
// this package imports few of them, so go test's cache would replay an old result after a
// change to cmd/segment, train or predict; the files a test stats are part of its cache key
// (those stat'd while the tests run: TestMain's own calls are not recorded).
func statSources(root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			os.Stat(path)
		}
		return nil
	})
}

func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// result is what one run of the binary gave.
type result struct {
	code    int    // exit status; -1 when it was killed for running too long
	out     string // stdout and stderr together, in order
	hung    bool
	elapsed time.Duration
}

// runBin runs the binary with args in dir, with extra environment variables, and kills its
// whole process group when it runs past limit.
func runBin(dir string, env []string, limit time.Duration, args ...string) result {
	return runProgram(bin, dir, env, limit, sigterm{}, args...)
}

// sigterm says when a run is sent SIGTERM: once its output holds seen (when not ""), and
// after it has run at least after (when not 0). The zero value sends none.
type sigterm struct {
	after time.Duration
	seen  string
}

// lockedBuffer is the output of a run, read while the run writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runProgram is runBin for any program, with SIGTERM sent as term says.
func runProgram(program, dir string, env []string, limit time.Duration, term sigterm, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var buf lockedBuffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	start := time.Now()
	var err error
	if err = cmd.Start(); err == nil {
		if term != (sigterm{}) {
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					if time.Since(start) >= term.after && strings.Contains(buf.String(), term.seen) {
						cmd.Process.Signal(syscall.SIGTERM)
						return
					}
				}
			}()
		}
		err = cmd.Wait()
	}
	r := result{out: buf.String(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.code, r.hung = -1, true
	case err == nil:
		r.code = 0
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.out += "\n(could not run: " + err.Error() + ")"
	}
	return r
}

// hashTree gives the sha256 of every regular file under root (root itself may be a file),
// by path. Special files and symbolic links are not followed or read: a FIFO would block.
func hashTree(root string) (map[string]string, error) {
	sums := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil // an unreadable folder inside (the read-only cases) is no input
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		sums[path] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	return sums, err
}

// changed lists the files of before that are gone or hold other bytes in after.
func changed(before, after map[string]string) []string {
	var c []string
	for p, h := range before {
		if after[p] != h {
			c = append(c, p)
		}
	}
	return c
}

// isTemp says whether a file name is one of the temporary names a write goes through
// (internal/atomicfile's ".NAME.tmp-RANDOM") or another partial-file convention.
func isTemp(name string) bool {
	return strings.Contains(name, ".tmp-") || strings.HasSuffix(name, ".tmp") ||
		strings.HasSuffix(name, ".partial") || strings.HasSuffix(name, "~")
}

// listFiles gives every file (of any type but folders) under root, relative to root.
func listFiles(root string) map[string]bool {
	files := map[string]bool{}
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = true
		return nil
	})
	return files
}

// panicked says whether output shows a Go panic or a goroutine dump.
func panicked(out string) bool {
	return strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ")
}

// atomicCount is a counter the parallel subtests share.
type atomicCount struct{ n atomic.Int64 }
