package predict

import (
	"context"
	"fmt"
	"slices"

	"github.com/segment-dev/segment/augment"
	"github.com/segment-dev/segment/unet"
)

// Predictor runs a model, or an ensemble of models, over images of any size, tile by tile
// (see the package documentation). It keeps the network graphs of the shapes it has run (a
// whole image's, or a batch of tiles'), so that images of one size, or tiles of one size,
// build their graph once; the model's tensors are shared with the graphs, so training the
// model afterwards is seen by the next prediction. It is not safe for concurrent use.
type Predictor struct {
	// model is the first of models: what the files and scores need of the network (its
	// input channels and classes) is the same for every model of an ensemble.
	model  *unet.Model
	models []*unet.Model
	opts   Options

	graphs       []graph   // most recently used first, of every model
	flipped, tmp []float32 // scratch of one batch of inputs and of logits
	probs        []float32 // a batch of probabilities, averaged over the flips
	// bands holds, per model, the whole-band buffers of its pass, and mean an ensemble's
	// averaged band: kept from one image to the next, since a Predictor predicts many
	// images, mostly of one size.
	bands []bandBuffers
	mean  []float32
}

// bandBuffers are the buffers of a model's pass that grow with the image's width (see
// pass), and, in an ensemble, the rows it has finished and the others not (member.rows).
type bandBuffers struct{ acc, seg, out, in, rows []float32 }

// graph is the inference graph of model m (an index of Predictor.models) for batches of n
// inputs of h x w, and the memory NetBytes gives it.
type graph struct {
	m, n, h, w int
	net        *unet.Net
	bytes      int64
}

// New makes a Predictor for model m, with o's defaults filled in. It refuses options out
// of range.
func New(m *unet.Model, o Options) (*Predictor, error) {
	return NewEnsemble([]*unet.Model{m}, o)
}

// NewEnsemble makes a Predictor that averages the class probabilities of models, pixel by
// pixel, in their order (so that the result does not depend on anything else), and decides
// on the average, as nnU-Net ensembles its folds. Each model runs with its own padding and
// tiles, as it would alone, and the models run one after another, a band of rows at a
// time. The models must take the same input channels and have the same classes; their
// depth, width and blocks may differ. One model is exactly New.
func NewEnsemble(models []*unet.Model, o Options) (*Predictor, error) {
	if len(models) == 0 {
		return nil, fmt.Errorf("predict: no model")
	}
	for i, m := range models {
		if err := m.Config.Validate(); err != nil {
			return nil, err
		}
		first := models[0].Config
		if c := m.Config; c.InChannels != first.InChannels || c.Classes != first.Classes {
			return nil, fmt.Errorf("model %d of the ensemble takes %d channels to %d classes, model 1 %d to %d",
				i+1, c.InChannels, c.Classes, first.InChannels, first.Classes)
		}
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Predictor{model: models[0], models: slices.Clone(models), opts: o}, nil
}

// Options gives the options in use, defaults filled in.
func (p *Predictor) Options() Options { return p.opts }

// Plan says how an image of w x h is cut into tiles (for an ensemble, by its first model),
// after it is shrunk by Options.Downsample.
func (p *Predictor) Plan(w, h int) Plan {
	f := p.opts.Downsample
	return plan(p.model.Config, p.opts, augment.ShrunkSize(w, f), augment.ShrunkSize(h, f))
}

// Close releases the network graphs and the buffers.
func (p *Predictor) Close() {
	for _, g := range p.graphs {
		g.net.Close()
	}
	p.graphs, p.bands, p.mean = nil, nil, nil
}

// Band is a strip of finished rows of a prediction: rows Y to Y+Rows-1 of an image Width
// wide. Probs holds Planes planes of Rows x Width: the foreground probability of a binary
// model (one plane), or the probability of each class. Probs belongs to the Predictor and is
// overwritten by the next band: copy what is to be kept.
type Band struct {
	Y, Rows, Width int
	Planes         int
	Probs          []float32
	// Threshold is the foreground probability above which a pixel of a binary model is
	// foreground.
	Threshold float32
}

// Label is the element type of a class-index map.
type Label interface{ ~uint8 | ~int32 }

// Decide writes the class index of every pixel of b into dst (Rows*Width, row-major): 1
// where the foreground probability of a binary model is above the threshold, else 0; the
// most probable class of a multi-class model (the first on ties).
func Decide[T Label](b Band, dst []T) {
	n := b.Rows * b.Width
	if b.Planes == 1 {
		for i, v := range b.Probs[:n] {
			var c T
			if v > b.Threshold {
				c = 1
			}
			dst[i] = c
		}
		return
	}
	for i := 0; i < n; i++ {
		best, bv := 0, b.Probs[i]
		for k := 1; k < b.Planes; k++ {
			if v := b.Probs[k*n+i]; v > bv {
				best, bv = k, v
			}
		}
		dst[i] = T(best)
	}
}

// Predict runs the model (or the ensemble) over src and hands its prediction to emit band
// by band, from the top of the image to the bottom. It stops at the first error of src, the
// network or emit, or when ctx is cancelled.
func (p *Predictor) Predict(ctx context.Context, src Source, emit func(Band) error) error {
	if f := p.opts.Downsample; f > 1 {
		if err := checkSource(src); err != nil {
			return err
		}
		up := newUpsampler(src.Width, src.Height, f, emit)
		if err := p.predictAt(ctx, shrinkSource(src, f), up.band); err != nil {
			return err
		}
		return up.finish()
	}
	return p.predictAt(ctx, src, emit)
}

// predictAt is Predict of src as it is, at the network's own resolution.
func (p *Predictor) predictAt(ctx context.Context, src Source, emit func(Band) error) error {
	if len(p.models) > 1 {
		return p.predictEnsemble(ctx, src, emit)
	}
	s, err := p.newPass(0, src)
	if err != nil {
		return err
	}
	for {
		b, ok, err := s.next(ctx)
		if err != nil || !ok {
			return err
		}
		if err := emit(b); err != nil {
			return err
		}
	}
}

// pass is the prediction of one image by one model, a row of tiles at a time: what Predict
// does, cut at the bands it emits so that an ensemble can interleave its models.
type pass struct {
	p              *Predictor
	m              int // the model, an index of p.models
	cfg            unet.Config
	src            Source
	pl             Plan
	gy, gx, sy, sx []float32

	accH int
	acc  []float32 // rows accTop.. of the image, weighted sums
	seg  []float32 // the image rows under the current row of tiles
	out  []float32 // a finished band
	in   []float32
	cols []int
	// rowOf maps the rows of a tile to rows of seg.
	rowOf []int
	// accTop is the first row not yet emitted; i the next row of tiles.
	accTop, i int
}

// newPass prepares the prediction of src by model m.
func (p *Predictor) newPass(m int, src Source) (*pass, error) {
	cfg := p.models[m].Config
	if src.Channels != cfg.InChannels {
		return nil, fmt.Errorf("image has %d channels, the model takes %d", src.Channels, cfg.InChannels)
	}
	if err := checkSource(src); err != nil {
		return nil, err
	}
	W, H := src.Width, src.Height
	C, K := cfg.InChannels, cfg.Classes
	pl := plan(cfg, p.opts, W, H)
	th, tw, nb := pl.TileH, pl.TileW, pl.Batch
	s := &pass{p: p, m: m, cfg: cfg, src: src, pl: pl}
	s.gy, s.gx = gaussian(th, len(pl.Ys) == 1), gaussian(tw, len(pl.Xs) == 1)
	s.sy, s.sx = weightSums(H, pl.Ys, s.gy), weightSums(W, pl.Xs, s.gx)
	s.accH = min(th, H)
	if len(p.bands) != len(p.models) {
		p.bands = make([]bandBuffers, len(p.models))
	}
	// The sums start at zero; the others are written before they are read.
	b := &p.bands[m]
	b.acc, b.seg, b.out, b.in = resize(b.acc, K*s.accH*W), resize(b.seg, C*s.accH*W), resize(b.out, K*s.accH*W), resize(b.in, nb*C*th*tw)
	clear(b.acc)
	s.acc, s.seg, s.out, s.in = b.acc, b.seg, b.out, b.in
	s.cols = make([]int, tw)
	s.rowOf = make([]int, th)
	return s, nil
}

// checkSource refuses an image without pixels.
func checkSource(src Source) error {
	if src.Width < 1 || src.Height < 1 {
		return fmt.Errorf("image is %dx%d", src.Width, src.Height)
	}
	return nil
}

// next runs rows of tiles until some rows are finished and gives them as a band; ok is
// false once the whole image has been given. The band's Probs are overwritten by the next
// call.
func (s *pass) next(ctx context.Context) (Band, bool, error) {
	W, H := s.src.Width, s.src.Height
	C, K := s.cfg.InChannels, s.cfg.Classes
	pl, accH := s.pl, s.accH
	th, tw, nb := pl.TileH, pl.TileW, pl.Batch
	gy, gx, sy, sx := s.gy, s.gx, s.sy, s.sx
	acc, seg, out, in, cols, rowOf := s.acc, s.seg, s.out, s.in, s.cols, s.rowOf
	for ; s.i < len(pl.Ys); s.i++ {
		i, y0, accTop := s.i, pl.Ys[s.i], s.accTop
		// The image rows the tiles read: those under them, and those mirrored into a
		// margin. Mirroring maps the th rows onto at most th rows, so seg holds them.
		s0, s1 := H, 0
		for r := range rowOf {
			rowOf[r] = ReflectIndex(y0+r, H)
			s0, s1 = min(s0, rowOf[r]), max(s1, rowOf[r]+1)
		}
		segRows := s1 - s0
		if err := s.src.Rows(seg[:C*segRows*W], s0, segRows); err != nil {
			return Band{}, false, err
		}
		for r := range rowOf {
			rowOf[r] -= s0
		}
		for j := 0; j < len(pl.Xs); j += nb {
			if err := ctx.Err(); err != nil {
				return Band{}, false, err
			}
			// Fill the batch; a short last batch repeats its last tile, so that one graph
			// serves every batch.
			for b := 0; b < nb; b++ {
				x0 := pl.Xs[min(j+b, len(pl.Xs)-1)]
				for c := range cols {
					cols[c] = ReflectIndex(x0+c, W)
				}
				inside := x0 >= 0 && x0+tw <= W
				for c := 0; c < C; c++ {
					plane := seg[c*segRows*W : (c+1)*segRows*W]
					dst := in[(b*C+c)*th*tw : (b*C+c+1)*th*tw]
					for r, sr := range rowOf {
						row := plane[sr*W : (sr+1)*W]
						d := dst[r*tw : (r+1)*tw]
						if inside {
							copy(d, row[x0:x0+tw])
							continue
						}
						for q, x := range cols {
							d[q] = row[x]
						}
					}
				}
			}
			probs, err := s.p.run(s.m, in, nb, th, tw)
			if err != nil {
				return Band{}, false, err
			}
			for b := 0; b < nb && j+b < len(pl.Xs); b++ {
				x0 := pl.Xs[j+b]
				xa, xb := max(x0, 0), min(x0+tw, W)
				for k := 0; k < K; k++ {
					tile := probs[(b*K+k)*th*tw : (b*K+k+1)*th*tw]
					plane := acc[k*accH*W : (k+1)*accH*W]
					for r := max(-y0, 0); r < th && y0+r < H; r++ {
						wy := gy[r]
						pr := tile[r*tw+xa-x0 : r*tw+xb-x0]
						dst := plane[(y0+r-accTop)*W+xa : (y0+r-accTop)*W+xb]
						wxs := gx[xa-x0 : xb-x0]
						for x, v := range pr {
							dst[x] += v * wy * wxs[x]
						}
					}
				}
			}
		}
		// The rows above the next row of tiles are final.
		end := H
		if i+1 < len(pl.Ys) {
			end = pl.Ys[i+1]
		}
		rows := end - accTop
		if rows <= 0 {
			continue
		}
		n := rows * W
		for k := 0; k < K; k++ {
			plane := acc[k*accH*W : (k+1)*accH*W]
			o := out[k*n : (k+1)*n]
			for r := 0; r < rows; r++ {
				wy := sy[accTop+r]
				a, d := plane[r*W:(r+1)*W], o[r*W:(r+1)*W]
				for x, v := range a {
					d[x] = v / (wy * sx[x])
				}
			}
			copy(plane, plane[n:])
			clear(plane[len(plane)-n:])
		}
		s.accTop = end
		s.i++
		return Band{Y: accTop, Rows: rows, Width: W, Planes: K, Probs: out[:K*n], Threshold: float32(s.p.opts.Threshold)}, true, nil
	}
	return Band{}, false, nil
}

// graph gives the inference graph of model m for batches of n inputs of h x w, building it
// when that shape has not been run. The graphs of other shapes (and of the other models of
// an ensemble) are kept, the most recently used first, as long as together they fit
// Options.Memory: validation during training runs the same images every epoch, and must
// not build their graphs again, while an ensemble too large for the memory rebuilds its
// models' graphs in turn rather than hold them all.
func (p *Predictor) graph(m, n, h, w int) (*unet.Net, error) {
	cfg := p.models[m].Config
	i := slices.IndexFunc(p.graphs, func(g graph) bool { return g.m == m && g.n == n && g.h == h && g.w == w })
	if i < 0 {
		net, err := unet.NewInferNet(p.models[m], n, h, w)
		if err != nil {
			return nil, err
		}
		p.graphs = append(p.graphs, graph{m: m, n: n, h: h, w: w, net: net, bytes: NetBytes(cfg, n, h, w)})
		i = len(p.graphs) - 1
	}
	g := p.graphs[i]
	copy(p.graphs[1:i+1], p.graphs[:i])
	p.graphs[0] = g
	total := int64(0)
	for k, o := range p.graphs {
		total += o.bytes
		if k > 0 && total > p.opts.Memory {
			for _, d := range p.graphs[k:] {
				d.net.Close()
			}
			clear(p.graphs[k:])
			p.graphs = p.graphs[:k]
			break
		}
	}
	size := n * cfg.Classes * h * w
	p.tmp, p.probs = resize(p.tmp, size), resize(p.probs, size)
	p.flipped = resize(p.flipped, n*cfg.InChannels*h*w)
	return g.net, nil
}

// resize gives s with n elements, reusing its memory when it has room.
func resize(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
