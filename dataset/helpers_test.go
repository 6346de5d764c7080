package dataset

import (
	"testing"

	"github.com/segment-dev/segment/internal/sharedtest"
)

// sharedData gives the path of a data set in ../shared/data, or skips the test when it is
// not there.
func sharedData(tb testing.TB, name string) string {
	tb.Helper()
	return sharedtest.Path(tb, "data/"+name)
}

func intp(v int) *int { return &v }
