package predict

import (
	"context"
	"fmt"
)

// member is one model of an ensemble while it predicts an image: its pass, the rows it
// has finished, and its probabilities of the rows it finished that are not yet emitted,
// row by row ([row][class][x]), from the first row not emitted.
type member struct {
	pass *pass
	done int
	rows []float32
}

// predictEnsemble is Predict for several models: each predicts the image as it would alone
// (its own padding and tiles), the one furthest behind going next, so that the models run
// one after another and only the rows some have finished and others not are held. Rows
// that every model has finished are averaged, in the models' order, and emitted.
func (p *Predictor) predictEnsemble(ctx context.Context, src Source, emit func(Band) error) error {
	ms := make([]*member, len(p.models))
	for i := range p.models {
		s, err := p.newPass(i, src)
		if err != nil {
			return err
		}
		ms[i] = &member{pass: s, rows: p.bands[i].rows[:0]}
	}
	defer func() { // the rows' memory serves the next image
		for i, m := range ms {
			p.bands[i].rows = m.rows[:0]
		}
	}()
	W, H, K := src.Width, src.Height, p.model.Config.Classes
	for emitted := 0; emitted < H; {
		next := ms[0]
		for _, m := range ms[1:] {
			if m.done < next.done {
				next = m
			}
		}
		b, ok, err := next.pass.next(ctx)
		if err != nil {
			return err
		}
		if !ok || b.Y != next.done {
			return fmt.Errorf("predict: internal error: model %d gave rows from %d, want %d", next.pass.m+1, b.Y, next.done)
		}
		n := b.Rows * W
		for r := 0; r < b.Rows; r++ {
			for k := 0; k < K; k++ {
				next.rows = append(next.rows, b.Probs[k*n+r*W:k*n+(r+1)*W]...)
			}
		}
		next.done += b.Rows
		low := H
		for _, m := range ms {
			low = min(low, m.done)
		}
		if low == emitted {
			continue
		}
		rows := low - emitted
		n = rows * W
		p.mean = resize(p.mean, K*n)
		out := p.mean
		average(out, ms, rows, K, W)
		for _, m := range ms {
			m.rows = m.rows[:copy(m.rows, m.rows[rows*K*W:])]
		}
		band := Band{Y: emitted, Rows: rows, Width: W, Planes: K, Probs: out, Threshold: float32(p.opts.Threshold)}
		if err := emit(band); err != nil {
			return err
		}
		emitted = low
	}
	return nil
}

// average writes into out (K planes of rows x W) the mean of the members' first rows
// rows: summed in the members' order, then divided by their number, so that the result is
// the same on every run.
func average(out []float32, ms []*member, rows, K, W int) {
	n := rows * W
	scale := float32(len(ms))
	for r := 0; r < rows; r++ {
		for k := 0; k < K; k++ {
			dst := out[k*n+r*W : k*n+(r+1)*W]
			off := (r*K + k) * W
			copy(dst, ms[0].rows[off:off+W])
			for _, m := range ms[1:] {
				for x, v := range m.rows[off : off+W] {
					dst[x] += v
				}
			}
			for x := range dst {
				dst[x] /= scale
			}
		}
	}
}
