package report

// A report in parts: the tasks of an array job each evaluate a part of the images and write
// its pictures and rows into a folder of the report's (CreatePart, FinishPart); once all
// are done, Merge writes the page of them all, the same page as one Writer given every
// image, and moves the pictures into the report.

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/segment-dev/segment/internal/regular"
	"github.com/segment-dev/segment/metrics"
)

// partFile is the file of a part's rows and page, in the part's folder.
const partFile = "part.json"

// partFormat names the format of partFile, checked when it is read.
const partFormat = "segment-report-part/1"

// isPart says whether the folder at dir is a part of a report (FinishPart wrote it).
func isPart(dir string) bool {
	fi, err := os.Lstat(filepath.Join(dir, partFile))
	return err == nil && fi.Mode().IsRegular()
}

// partJSON is partFile. Numbers are strconv's shortest text, which reads back to the same
// bits (NaN and infinities included), so that the merged page is the one a single Writer
// makes.
type partJSON struct {
	Format string `json:"format"`
	// Token is drawn at random for each part written: what the evaluation's own record of
	// the part holds, so that a part is never merged with the scores of another run.
	Token string `json:"token"`
	// Page is what every part of a report must agree on.
	Page partPage  `json:"page"`
	Rows []partRow `json:"rows"`
}

type partPage struct {
	Title    string        `json:"title"`
	Classes  []partClass   `json:"classes"`
	Training *partTraining `json:"training,omitempty"`
}

type partClass struct {
	Value  int    `json:"value"`
	Name   string `json:"name"`
	Colour string `json:"colour,omitempty"` // RRGGBBAA, "" for the default
}

type partTraining struct {
	Config, Summary              string
	Epoch, Loss, ValDice, ValIoU []string
}

type partRow struct {
	ID      int        `json:"id"`
	Name    string     `json:"name"`
	Thumb   [2]int     `json:"thumb"`
	Scores  [][]string `json:"scores"`
	Fg      []string   `json:"fg"`
	Present []bool     `json:"present"`
	Maps    []int      `json:"maps,omitempty"`
}

// CreatePart starts the part named part of the report at dir: a Writer whose pictures and
// rows go to the folder dir/part (written under a temporary name beside it, and replacing an
// older part of that name), for [Merge]. dir holds the parts of every task; it is refused,
// as by [Create], when it holds anything a report and its parts do not.
func CreatePart(dir, part, title string, classes []Class) (*Writer, error) {
	if part == "" || part != filepath.Base(part) || part[0] == '.' || part == imgDir {
		return nil, fmt.Errorf("report: %q cannot name a part of a report", part)
	}
	if err := replaceable(dir); err != nil {
		return nil, err
	}
	w, err := Create(filepath.Join(dir, part), title, classes)
	if err != nil {
		return nil, err
	}
	w.part = part
	return w, nil
}

// FinishPart writes the part's rows and the training t (nil for none) and moves the part
// into place, replacing an older one. It returns the part's token, which [ReadPart] gives
// back: the caller records it beside its own results of the part.
func (w *Writer) FinishPart(t *Training) (token string, err error) {
	rows, ok := w.end(w.part != "")
	if !ok {
		return "", fmt.Errorf("report: %s: FinishPart of a Writer that is done or not a part", w.dir)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(w.tmp)
		}
	}()
	f := partJSON{Format: partFormat, Token: strconv.FormatUint(rand.Uint64(), 16) + strconv.FormatUint(rand.Uint64(), 16),
		Page: pageOf(w.title, w.classes, t)}
	for _, r := range rows {
		f.Rows = append(f.Rows, partRow{ID: r.ID, Name: r.Name, Thumb: [2]int{r.Thumb.X, r.Thumb.Y}, Scores: floatTexts2(r.Scores),
			Fg: floatTexts(r.Fg), Present: r.Present, Maps: r.ClassMaps})
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("report: %s: %w", w.dir, err)
	}
	if err := os.WriteFile(filepath.Join(w.tmp, partFile), b, 0o666); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	if err := w.rename(); err != nil {
		return "", err
	}
	return f.Token, nil
}

// pageOf is what a part records of the page.
func pageOf(title string, classes []Class, t *Training) partPage {
	p := partPage{Title: title}
	for _, c := range classes {
		pc := partClass{Value: c.Value, Name: c.Name}
		if c.Colour != nil {
			r, g, b, a := c.Colour.RGBA()
			pc.Colour = fmt.Sprintf("%02x%02x%02x%02x", r>>8, g>>8, b>>8, a>>8)
		}
		p.Classes = append(p.Classes, pc)
	}
	if t != nil {
		p.Training = &partTraining{Config: string(t.Config), Summary: string(t.Summary),
			Epoch: texts(t.Epoch), Loss: texts(t.Loss), ValDice: texts(t.ValDice), ValIoU: texts(t.ValIoU)}
	}
	return p
}

func texts(v []float64) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return out
}

func floatTexts(v []metrics.Float) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.FormatFloat(float64(x), 'g', -1, 64)
	}
	return out
}

func floatTexts2(v [][]metrics.Float) [][]string {
	out := make([][]string, len(v))
	for i, r := range v {
		out[i] = floatTexts(r)
	}
	return out
}

// Part is a part of a report as FinishPart wrote it, read back by ReadPart.
type Part struct {
	// Dir is the part's folder and Token the token FinishPart returned.
	Dir, Token string
	f          partJSON
}

// ReadPart reads the part of a report in the folder dir.
func ReadPart(dir string) (*Part, error) {
	b, err := regular.ReadFile(filepath.Join(dir, partFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("report: %s: no part of a report (no %s): was it written with the report?", dir, partFile)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var f partJSON
	if err := json.Unmarshal(b, &f); err != nil || f.Format != partFormat {
		if err == nil {
			err = fmt.Errorf("format %q, want %q", f.Format, partFormat)
		}
		return nil, fmt.Errorf("report: %s: not a part of a report: %v", filepath.Join(dir, partFile), err)
	}
	return &Part{Dir: dir, Token: f.Token, f: f}, nil
}

// Merge writes the report at dir, whose parts are parts, with the summary s: the page of
// every part's images, the same as one Writer given them all, with their pictures (hard
// links, or copies where the file system has none). The parts stay in the report, beside
// its page, so that the merge can be run again. They must agree on the title, the classes
// and the training, and number different images.
func Merge(dir string, parts []*Part, s metrics.Summary) (err error) {
	if len(parts) == 0 {
		return fmt.Errorf("report: %s: no parts to merge", dir)
	}
	first := parts[0]
	page, _ := json.Marshal(first.f.Page)
	for _, p := range parts[1:] {
		if b, _ := json.Marshal(p.f.Page); string(b) != string(page) {
			return fmt.Errorf("report: %s: another title, classes or training than %s", p.Dir, first.Dir)
		}
	}
	classes, t, err := first.f.Page.decode()
	if err != nil {
		return fmt.Errorf("report: %s: %v", first.Dir, err)
	}
	w, err := Create(dir, first.f.Page.Title, classes)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	from := map[int]string{}
	for _, p := range parts {
		for _, pr := range p.f.Rows {
			if prev, ok := from[pr.ID]; ok {
				return fmt.Errorf("report: %s: image %d (%s) is in %s too", p.Dir, pr.ID, pr.Name, prev)
			}
			from[pr.ID] = p.Dir
			r, err := pr.row(len(classes))
			if err != nil {
				return fmt.Errorf("report: %s: %v", filepath.Join(p.Dir, partFile), err)
			}
			w.rows = append(w.rows, r)
		}
		entries, err := os.ReadDir(filepath.Join(p.Dir, imgDir))
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		// The part stays in the report too, so that a merge can be run again.
		keep := filepath.Join(w.tmp, filepath.Base(p.Dir))
		if err := os.MkdirAll(filepath.Join(keep, imgDir), 0o777); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if err := linkOrCopy(filepath.Join(p.Dir, partFile), filepath.Join(keep, partFile)); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		for _, e := range entries {
			for _, to := range []string{filepath.Join(w.tmp, imgDir, e.Name()), filepath.Join(keep, imgDir, e.Name())} {
				if err := linkOrCopy(filepath.Join(p.Dir, imgDir, e.Name()), to); err != nil {
					return fmt.Errorf("report: %w", err)
				}
			}
		}
	}
	// The order a single Writer's rows come in is that of Add's calls; the page sorts them,
	// ties by ID, so any order gives the same page.
	slices.SortFunc(w.rows, func(a, b row) int { return a.ID - b.ID })
	return w.Finish(s, t)
}

// decode gives the classes and the training a part recorded.
func (p partPage) decode() ([]Class, *Training, error) {
	var classes []Class
	for _, c := range p.Classes {
		cl := Class{Value: c.Value, Name: c.Name}
		if c.Colour != "" {
			v, err := strconv.ParseUint(c.Colour, 16, 32)
			if err != nil || len(c.Colour) != 8 {
				return nil, nil, fmt.Errorf("class %s: colour %q", c.Name, c.Colour)
			}
			cl.Colour = color.RGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}
		}
		classes = append(classes, cl)
	}
	if p.Training == nil {
		return classes, nil, nil
	}
	pt := p.Training
	t := &Training{}
	if pt.Config != "" {
		t.Config = json.RawMessage(pt.Config)
	}
	if pt.Summary != "" {
		t.Summary = json.RawMessage(pt.Summary)
	}
	var err error
	for _, c := range []struct {
		to   *[]float64
		from []string
	}{{&t.Epoch, pt.Epoch}, {&t.Loss, pt.Loss}, {&t.ValDice, pt.ValDice}, {&t.ValIoU, pt.ValIoU}} {
		if *c.to, err = numbers(c.from); err != nil {
			return nil, nil, fmt.Errorf("training curves: %v", err)
		}
	}
	return classes, t, nil
}

// row gives back the row a part recorded, of a report of k classes.
func (pr partRow) row(k int) (row, error) {
	r := row{ID: pr.ID, Base: fmt.Sprintf("%05d", pr.ID), Name: pr.Name, Thumb: image.Pt(pr.Thumb[0], pr.Thumb[1]),
		Present: pr.Present, ClassMaps: pr.Maps}
	if pr.ID < 1 || len(pr.Scores) != k || len(pr.Present) != k || len(pr.Fg) != len(shown) {
		return r, fmt.Errorf("image %d (%s): a row of %d classes, the report has %d", pr.ID, pr.Name, len(pr.Scores), k)
	}
	for _, sc := range pr.Scores {
		v, err := numbers(sc)
		if err != nil || len(v) != len(shown) {
			return r, fmt.Errorf("image %d (%s): scores %q", pr.ID, pr.Name, sc)
		}
		r.Scores = append(r.Scores, floats(v))
	}
	fg, err := numbers(pr.Fg)
	if err != nil {
		return r, fmt.Errorf("image %d (%s): %v", pr.ID, pr.Name, err)
	}
	r.Fg = floats(fg)
	return r, nil
}

func numbers(s []string) ([]float64, error) {
	if s == nil {
		return nil, nil
	}
	out := make([]float64, len(s))
	for i, x := range s {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func floats(v []float64) []metrics.Float {
	out := make([]metrics.Float, len(v))
	for i, x := range v {
		out[i] = metrics.Float(x)
	}
	return out
}

// linkOrCopy puts the file from at to: a hard link, or a copy where links fail.
func linkOrCopy(from, to string) error {
	if os.Link(from, to) == nil {
		return nil
	}
	in, err := regular.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
