//go:build race

package reliability

// raceEnabled says that the tests run under the race detector: the binary they run is then
// built with -race too, so that a data race in the loader or the training steps ends it
// with "WARNING: DATA RACE".
const raceEnabled = true
