// Package landscape draws the loss landscape of a model around its weights, by Li et al.'s
// method ("Visualizing the Loss Landscape of Neural Nets", 2018): the loss over a grid of
// points θ + a·d1 + b·d2 of the plane spanned by two random, filter-normalised directions
// d1 and d2 in weight space. The package knows nothing of U-Nets: a Problem gives the
// weights and evaluates the loss at any point, and UNet is the Problem of a segment model.
package landscape

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/segment-dev/segment/internal/parallel"
)

// Tensor is one tensor of weights at the centre of the landscape. Its filters are the
// slices along its first axis (a convolution's output channels).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Problem is what a landscape explores: the weights at its centre and the loss anywhere.
type Problem interface {
	// Params lists the weights the directions move, at the centre. Tensors of one axis
	// (biases, norm scales and shifts) stay fixed: their directions are zero.
	Params() []Tensor
	// NewWorker gives an evaluator of the loss with its own copy of whatever it needs, so
	// that workers run side by side.
	NewWorker() (Worker, error)
}

// Worker evaluates the loss at points of weight space. It is used by one goroutine.
type Worker interface {
	// Loss gives the loss with the weights w, one slice per tensor of Params in its order.
	Loss(w [][]float32) (float64, error)
	Close() error
}

// Options say which grid to evaluate.
type Options struct {
	// Points is the number of grid points on each side, odd so that the centre is one of
	// them: 0 means 21.
	Points int
	// Span is the half width of the grid: a and b run over [-Span, Span]. 0 means 1.
	Span float64
	// Seed draws the two directions.
	Seed uint64
	// Workers is the number of points evaluated at once: 0 means GOMAXPROCS.
	Workers int
	// Progress receives a progress bar over the grid's points; nil draws none.
	Progress io.Writer
}

// Result is a computed landscape.
type Result struct {
	// Coords are the grid's coordinates on each axis, from -Span to Span.
	Coords []float64
	// Loss[j][i] is the loss at θ + Coords[i]·d1 + Coords[j]·d2: rows follow d2.
	Loss [][]float64
	// Centre is the loss at θ itself (Loss at the middle row and column).
	Centre float64
	// Directions are d1 and d2, one slice per tensor of Params.
	Directions [2][][]float32
	// NonConvexity is the mean over the grid's inner points of Li et al.'s ratio of the
	// Hessian's eigenvalues, taken in the plane: with λmin <= λmax the eigenvalues of the
	// 2x2 Hessian of the surface by central finite differences, max(0, -λmin) / max(|λmin|,
	// |λmax|). It is 0 where the surface curves upwards in every direction of the plane
	// (locally convex), 1 where it curves down as much as anywhere up, and the mean says
	// how much of the surface, and how strongly, is not convex: Li et al.'s maps of
	// |λmin/λmax| reduced to one number a table can hold, from the grid's own values (the
	// same batch-norm statistics, the same crops), with no extra passes.
	NonConvexity float64
	// Seconds is the time the grid took.
	Seconds float64
}

// Directions draws the two directions for the tensors ps with seed: normals, each filter
// then scaled to the norm of the same filter of the weights (filter normalisation), and
// zero for tensors of one axis. Without the scaling a direction would move layers of
// small weights relatively far and layers of large ones hardly at all, and the pictures
// of two networks would not compare (Li et al., section 4).
func Directions(ps []Tensor, seed uint64) [2][][]float32 {
	rng := rand.New(rand.NewPCG(seed, 0x6c616e64))
	var ds [2][][]float32
	for k := range ds {
		ds[k] = make([][]float32, len(ps))
		for i, p := range ps {
			d := make([]float32, len(p.Data))
			if len(p.Shape) >= 2 {
				for j := range d {
					d[j] = float32(rng.NormFloat64())
				}
				FilterNormalise(d, p.Data, p.Shape[0])
			}
			ds[k][i] = d
		}
	}
	return ds
}

// FilterNormalise scales each of the filters slices of d (equal parts, in order) to the
// norm of the same slice of w. A filter of d that is zero stays zero.
func FilterNormalise(d, w []float32, filters int) {
	n := len(d) / filters
	for f := range filters {
		df, wf := d[f*n:(f+1)*n], w[f*n:(f+1)*n]
		var sd, sw float64
		for j := range df {
			sd += float64(df[j]) * float64(df[j])
			sw += float64(wf[j]) * float64(wf[j])
		}
		if sd == 0 {
			continue
		}
		s := math.Sqrt(sw / sd)
		for j := range df {
			df[j] = float32(float64(df[j]) * s)
		}
	}
}

// Compute evaluates the loss of p over the grid o describes, the points side by side on
// o.Workers workers, each with its own Worker.
func Compute(p Problem, o Options) (*Result, error) {
	if o.Points == 0 {
		o.Points = 21
	}
	if o.Span == 0 {
		o.Span = 1
	}
	if o.Workers <= 0 {
		o.Workers = parallel.Workers()
	}
	if o.Points < 3 || o.Points%2 == 0 {
		return nil, fmt.Errorf("landscape: the grid needs an odd number of points on a side, at least 3 (the centre among them), got %d", o.Points)
	}
	if !(o.Span > 0) || math.IsInf(o.Span, 0) {
		return nil, fmt.Errorf("landscape: the span must be positive, got %g", o.Span)
	}
	start := time.Now()
	ps := p.Params()
	if len(ps) == 0 {
		return nil, errors.New("landscape: the model has no weights")
	}
	n := o.Points
	r := &Result{Coords: make([]float64, n), Loss: make([][]float64, n), Directions: Directions(ps, o.Seed)}
	for i := range r.Coords {
		r.Coords[i] = o.Span * float64(2*i-(n-1)) / float64(n-1)
		r.Loss[i] = make([]float64, n)
	}
	r.Coords[n/2] = 0 // exactly
	o.Workers = min(o.Workers, n*n)
	workers := make([]Worker, o.Workers)
	bufs := make([][][]float32, o.Workers)
	defer func() {
		for _, w := range workers {
			if w != nil {
				w.Close()
			}
		}
	}()
	for k := range workers {
		w, err := p.NewWorker()
		if err != nil {
			return nil, err
		}
		workers[k] = w
		bufs[k] = make([][]float32, len(ps))
		for i, t := range ps {
			bufs[k][i] = make([]float32, len(t.Data))
		}
	}
	var bar *progressbar.ProgressBar
	if o.Progress != nil {
		bar = progressbar.NewOptions(n*n, progressbar.OptionSetWriter(o.Progress), progressbar.OptionSetItsString("points"),
			progressbar.OptionShowCount(), progressbar.OptionSetWidth(30), progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true), progressbar.OptionShowElapsedTimeOnFinish())
	}
	var mu sync.Mutex
	var first error
	d1, d2 := r.Directions[0], r.Directions[1]
	parallel.ForWorker(n*n, o.Workers, func(wk, k int) {
		a, b := r.Coords[k%n], r.Coords[k/n]
		w := bufs[wk]
		for i, t := range ps {
			for j, v := range t.Data {
				w[i][j] = float32(float64(v) + a*float64(d1[i][j]) + b*float64(d2[i][j]))
			}
		}
		loss, err := workers[wk].Loss(w)
		mu.Lock()
		defer mu.Unlock()
		if err != nil && first == nil {
			first = fmt.Errorf("landscape: the loss at (%g, %g): %w", a, b, err)
		}
		r.Loss[k/n][k%n] = loss
		if bar != nil {
			bar.Add(1)
		}
	})
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(o.Progress)
	}
	if first != nil {
		return nil, first
	}
	r.Centre = r.Loss[n/2][n/2]
	r.NonConvexity = NonConvexity(r.Loss, r.Coords[1]-r.Coords[0])
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// NonConvexity is Result.NonConvexity of the grid f (f[j][i], rows along the second
// direction) of spacing h: the mean over inner points of max(0, -λmin) / max(|λmin|,
// |λmax|) of the central-difference Hessian. A point whose Hessian is zero counts 0.
func NonConvexity(f [][]float64, h float64) float64 {
	var sum float64
	var count int
	for j := 1; j+1 < len(f); j++ {
		for i := 1; i+1 < len(f[j]); i++ {
			lmin, lmax := Hessian2(f, i, j, h)
			count++
			if den := math.Max(math.Abs(lmin), math.Abs(lmax)); den > 0 {
				sum += math.Max(0, -lmin) / den
			}
		}
	}
	if count == 0 {
		return math.NaN()
	}
	return sum / float64(count)
}

// Hessian2 gives the eigenvalues, smaller first, of the Hessian of the grid f at inner
// point (i, j) by central differences of spacing h.
func Hessian2(f [][]float64, i, j int, h float64) (lmin, lmax float64) {
	fxx := (f[j][i+1] - 2*f[j][i] + f[j][i-1]) / (h * h)
	fyy := (f[j+1][i] - 2*f[j][i] + f[j-1][i]) / (h * h)
	fxy := (f[j+1][i+1] - f[j+1][i-1] - f[j-1][i+1] + f[j-1][i-1]) / (4 * h * h)
	m, r := (fxx+fyy)/2, math.Hypot((fxx-fyy)/2, fxy)
	return m - r, m + r
}
