// Package slurmtest runs tests against a real Slurm cluster (one node is enough: .ci/slurm-up.sh
// starts one on localhost): it submits job arrays with sbatch, waits for them, kills tasks,
// and reads their logs and states. A test that finds no cluster skips, saying why, unless
// SEGMENT_REQUIRE_SLURM is set (as CI sets it where it started one), where it fails.
package slurmtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Require names the environment variable that turns a missing cluster from a skip into a
// failure.
const Require = "SEGMENT_REQUIRE_SLURM"

// Cluster is a Slurm cluster the tests can submit to.
type Cluster struct {
	// Nodes is sinfo's line of the nodes and their states, for the log.
	Nodes string
}

// Reach finds the cluster: sbatch on PATH, and sinfo answering with a node that can take
// jobs. Without one it skips the test (fails with SEGMENT_REQUIRE_SLURM set).
func Reach(tb testing.TB) *Cluster {
	tb.Helper()
	// Read here, so that go test's cache keys the result on it: a test that passed against
	// a cluster is not reported again from the cache where there is none.
	conf := os.Getenv("SLURM_CONF")
	missing := func(format string, a ...any) {
		msg := fmt.Sprintf(format, a...)
		if os.Getenv(Require) != "" {
			tb.Fatalf("%s is set but %s", Require, msg)
		}
		tb.Skipf("skipped: %s; .ci/slurm-up.sh starts a one-node cluster (as root, with Debian's slurm-wlm and munge) and prints the SLURM_CONF to export", msg)
	}
	for _, tool := range []string{"sbatch", "squeue", "scancel", "scontrol", "sinfo"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing("%s is not on PATH (no Slurm client)", tool)
		}
	}
	out, err := exec.Command("sinfo", "-h", "-o", "%N %T").CombinedOutput()
	if err != nil {
		missing("sinfo cannot reach a cluster (SLURM_CONF=%q): %v: %s", conf, err, firstLine(out))
	}
	nodes := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`(?m)\b(idle|mixed|allocated)\b`).MatchString(nodes) {
		missing("the cluster has no node that takes jobs (sinfo: %q)", nodes)
	}
	return &Cluster{Nodes: nodes}
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// Job is a submitted job array.
type Job struct {
	ID  string // the array's job id
	Dir string // where its script and logs are
}

// Submit writes script (a shell script) into dir as NAME.sh and submits it as a job array
// of the indices array ("0-3", "1"), each task logging stdout and stderr to
// NAME-ID_TASK.log in dir. Extra sbatch options go in opts.
func (c *Cluster) Submit(tb testing.TB, dir, name, array, script string, opts ...string) *Job {
	tb.Helper()
	path := filepath.Join(dir, name+".sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		tb.Fatal(err)
	}
	args := append([]string{"--parsable", "--array=" + array, "--job-name=" + name, "--chdir=" + dir,
		"--output=" + filepath.Join(dir, name+"-%A_%a.log")}, opts...)
	out, err := exec.Command("sbatch", append(args, path)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("sbatch %s: %v: %s", strings.Join(args, " "), err, out)
	}
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, err := strconv.Atoi(id); err != nil {
		tb.Fatalf("sbatch said %q, not a job id", out)
	}
	tb.Logf("submitted %s: job %s, array %s", name, id, array)
	return &Job{ID: id, Dir: dir}
}

// Log is the log of task i, "" while there is none.
func (j *Job) Log(name string, i int) string {
	b, _ := os.ReadFile(filepath.Join(j.Dir, fmt.Sprintf("%s-%s_%d.log", name, j.ID, i)))
	return string(b)
}

// Pending says whether any task of the job is still queued or running.
func (j *Job) Pending(tb testing.TB) bool {
	tb.Helper()
	out, err := exec.Command("squeue", "-h", "-j", j.ID, "-o", "%i %T").CombinedOutput()
	if err != nil {
		// squeue errors for a job id it has forgotten: the job is over.
		if bytes.Contains(out, []byte("Invalid job id")) {
			return false
		}
		tb.Fatalf("squeue -j %s: %v: %s", j.ID, err, out)
	}
	return strings.TrimSpace(string(out)) != ""
}

// Wait waits until every task of the job has ended, failing the test after timeout (and
// cancelling the job, so that nothing is left running).
func (j *Job) Wait(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	end := time.Now().Add(timeout)
	for j.Pending(tb) {
		if time.Now().After(end) {
			exec.Command("scancel", j.ID).Run()
			tb.Fatalf("job %s not done after %v; cancelled", j.ID, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Kill sends SIGKILL to task i (scancel --signal=KILL): the task dies at once, as on a
// node that fails or a preemption without grace time.
func (j *Job) Kill(tb testing.TB, i int) {
	tb.Helper()
	task := fmt.Sprintf("%s_%d", j.ID, i)
	if out, err := exec.Command("scancel", "--signal=KILL", task).CombinedOutput(); err != nil {
		tb.Fatalf("scancel --signal=KILL %s: %v: %s", task, err, out)
	}
}

// Cancel cancels whatever is left of the job (for a deferred clean-up).
func (j *Job) Cancel() { exec.Command("scancel", j.ID).Run() }

// States gives each task's state and exit code as scontrol shows them once the job is
// over ("COMPLETED 0:0", "CANCELLED 0:9"), by task index.
func (j *Job) States(tb testing.TB) map[int]string {
	tb.Helper()
	out, err := exec.Command("scontrol", "-o", "show", "job", j.ID).CombinedOutput()
	if err != nil {
		tb.Fatalf("scontrol show job %s: %v: %s", j.ID, err, out)
	}
	field := func(line, key string) string {
		m := regexp.MustCompile(`\b` + key + `=(\S+)`).FindStringSubmatch(line)
		if m == nil {
			return ""
		}
		return m[1]
	}
	states := map[int]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, err := strconv.Atoi(field(line, "ArrayTaskId"))
		if err != nil {
			continue
		}
		states[k] = field(line, "JobState") + " " + field(line, "ExitCode")
	}
	return states
}

// Sacct is the job completion record of the cluster (sacct --completion: it needs no
// accounting database, only JobCompType=jobcomp/filetxt, which .ci/slurm-up.sh sets), for
// the log. Its "Unknown type" complaints about array fields go to stderr and are dropped.
func Sacct() string {
	out, err := exec.Command("sacct", "--completion", "--allusers", "--format=JobID,JobName,State,Start,End,Elapsed,ExitCode,NodeList").Output()
	if err != nil {
		return fmt.Sprintf("sacct --completion: %v", err)
	}
	return string(out)
}
