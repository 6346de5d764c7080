package train

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// writeLog rewrites the CSV log from the run's history, atomically, so that a resumed run's
// log holds each epoch once.
func writeLog(p Paths, hist []Epoch) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"epoch", "steps", "time_s", "loss", "val_dice", "val_iou", "lr", "images_per_s"})
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, e := range hist {
		w.Write([]string{strconv.Itoa(e.Epoch), strconv.Itoa(e.Steps), f(e.Time), f(e.Loss), f(float64(e.ValDice)), f(float64(e.ValIoU)), f(e.LR), f(e.Rate)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return writeAtomic(p.CSV, buf.Bytes())
}

// writeAtomic writes data to a temporary file beside path and renames it over path.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}
