package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/segment-dev/segment/landscape"
)

// runRecord is what one finished run of an ablation gave the table, kept beside its model
// (model.ablation.json), so that a stopped ablation resumed with the same options takes it
// instead of training the run again. Every figure of the table comes from a record, whether
// the run was trained now or kept, so the two give the same table to the last bit.
type runRecord struct {
	// Key is the run's options (runRecordKey): a record is kept only for the same run.
	Key      json.RawMessage `json:"run"`
	BestDice exactFloat      `json:"best_dice"`
	LastLoss exactFloat      `json:"last_loss"`
	Steps    int             `json:"steps"`
	Seconds  exactFloat      `json:"seconds"`
	Weights  int             `json:"weights"`
	// The gradient figures of gradSummary, and the landscape's non-convexity (NaN without).
	FirstGrad    exactFloat `json:"grad_first"`
	LastGrad     exactFloat `json:"grad_last"`
	GradRatio    exactFloat `json:"grad_first_over_last"`
	InitRatio    exactFloat `json:"grad_first_over_last_init"`
	NonConvexity exactFloat `json:"non_convexity"`
	History      []Epoch    `json:"history"`
	// Landscape is the grid the ablation's picture draws: no directions, which are as large
	// as the model and drawn again from the seed by segment landscape.
	Landscape *keptLandscape `json:"landscape,omitempty"`
}

// keptLandscape is the part of a landscape.Result the ablation's table and picture use.
type keptLandscape struct {
	Coords       []exactFloat   `json:"coords"`
	Loss         [][]exactFloat `json:"loss"`
	Centre       exactFloat     `json:"centre"`
	NonConvexity exactFloat     `json:"non_convexity"`
	Seconds      exactFloat     `json:"seconds"`
}

// exactFloat is a float64 that JSON carries exactly: finite values as the shortest number
// that reads back to the same bits, NaN and infinities as the strings "NaN", "+Inf" and
// "-Inf" (a diverged run's loss is one), which encoding/json refuses as numbers.
type exactFloat float64

// MarshalJSON writes the number exactly.
func (f exactFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte(strconv.Quote(strconv.FormatFloat(v, 'g', -1, 64))), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// UnmarshalJSON reads a number, or "NaN", "+Inf" or "-Inf".
func (f *exactFloat) UnmarshalJSON(b []byte) error {
	s := string(b)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("cannot read %s as a number", b)
	}
	*f = exactFloat(v)
	return nil
}

func exactFloats(xs []float64) []exactFloat {
	out := make([]exactFloat, len(xs))
	for i, x := range xs {
		out[i] = exactFloat(x)
	}
	return out
}

func plainFloats(xs []exactFloat) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

func keepLandscape(l *landscape.Result) *keptLandscape {
	if l == nil {
		return nil
	}
	k := &keptLandscape{Coords: exactFloats(l.Coords), Centre: exactFloat(l.Centre), NonConvexity: exactFloat(l.NonConvexity), Seconds: exactFloat(l.Seconds)}
	for _, row := range l.Loss {
		k.Loss = append(k.Loss, exactFloats(row))
	}
	return k
}

func (k *keptLandscape) result() *landscape.Result {
	if k == nil {
		return nil
	}
	l := &landscape.Result{Coords: plainFloats(k.Coords), Centre: float64(k.Centre), NonConvexity: float64(k.NonConvexity), Seconds: float64(k.Seconds)}
	for _, row := range k.Loss {
		l.Loss = append(l.Loss, plainFloats(row))
	}
	return l
}

// recordPath is where the record of the run whose best model is out goes.
func recordPath(out string) string {
	return strings.TrimSuffix(out, ".safetensors") + ".ablation.json"
}

// runRecordKey is the JSON of what makes a run of an ablation: its training options and
// its landscape's, without what does not change the result (where the output and the log
// go, the hooks, the number of loading goroutines, the landscape's workers) and with the
// data folder absolute, so that the same ablation started from another folder still
// matches.
func runRecordKey(o Options, lo *LandscapeOptions) (json.RawMessage, error) {
	o.Out, o.Log, o.Progress, o.Warn, o.Hooks, o.Threads, o.Resume = "", nil, nil, nil, nil, 0, false
	if abs, err := filepath.Abs(o.Data); err == nil {
		o.Data = abs
	}
	var l *LandscapeOptions
	if lo != nil {
		c := *lo
		c.Grid.Workers, c.Grid.Progress = 0, nil
		l = &c
	}
	return json.Marshal(struct {
		Train     Options           `json:"train"`
		Landscape *LandscapeOptions `json:"landscape,omitempty"`
	}{o, l})
}

// keptRun reads the record of a finished run of o, or gives nil when there is none or it
// was made by another run (other options, another landscape): that run is trained again.
// A record that cannot be read is an error, not a reason to train again silently.
func keptRun(o Options, lo *LandscapeOptions) (*runRecord, error) {
	path := recordPath(o.Out)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec runRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("%s: %w (delete it to train the run again)", path, err)
	}
	key, err := runRecordKey(o, lo)
	if err != nil {
		return nil, err
	}
	if !jsonEqual(rec.Key, key) {
		return nil, nil
	}
	return &rec, nil
}

// jsonEqual says whether two JSON texts hold the same value, whatever their spacing.
func jsonEqual(a, b []byte) bool {
	var x, y bytes.Buffer
	return json.Compact(&x, a) == nil && json.Compact(&y, b) == nil && bytes.Equal(x.Bytes(), y.Bytes())
}

// writeRecord keeps rec beside the run's model, written whole or not at all.
func writeRecord(out string, rec *runRecord) error {
	b, err := json.MarshalIndent(rec, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(recordPath(out), append(b, '\n'))
}
