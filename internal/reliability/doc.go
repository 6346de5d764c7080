// Package reliability holds tests only: the reliability suite, which runs the segment binary
// as a user would, on real files made fresh for each run (good, truncated, garbage and empty
// images, masks of the wrong size, damaged model files, FIFOs, symbolic link loops, a
// read-only folder and a full disk), and checks for every case the exit status, that the
// message names the file at fault, that nothing panicked or hung, that no input changed and
// that no partial output was left; the kill tests, which kill -9 training and prediction at
// reproducible points (see internal/killpoint) and check that what is left loads and that a
// rerun finishes exactly as an uninterrupted run; and the determinism test, which trains twice
// with the same seed on several cores and compares the tensors bit for bit.
//
// The tests build the binary once with the go command. Run them with
//
//	go test ./internal/reliability -v -run Suite
//
// to see the suite's totals (cases, panics, hangs, inputs changed, partial files).
package reliability
