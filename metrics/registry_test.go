package metrics

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestOutputNames pins the names and order of eval.json's keys and eval.csv's columns to
// literals, so that the registry cannot rename, drop or reorder a metric unnoticed.
func TestOutputNames(t *testing.T) {
	want := "image,class_index,class_value,class,tp,fp,fn,tn,dice,iou,precision,recall,specificity,accuracy,hd95"
	if got := strings.Join(CSVHeader(), ","); got != want {
		t.Errorf("CSV header\n got %s\nwant %s", got, want)
	}
	c := ClassSummary{Index: 1, Value: 255, Name: "foreground", Empty: 2, Counts: Confusion{TP: 1, FP: 2, FN: 3, TN: 4}}
	for m := range c.Stats {
		c.Stats[m] = Stat{Mean: Float(m), Std: 0.5, Dataset: Float(math.NaN()), N: m, Excluded: 1}
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	st := func(i string) string {
		return `{"mean":` + i + `,"std":0.5,"dataset":null,"n":` + i + `,"excluded":1}`
	}
	wantJSON := `{"index":1,"value":255,"name":"foreground","empty":2,"counts":{"tp":1,"fp":2,"fn":3,"tn":4},` +
		`"dice":` + st("0") + `,"iou":` + st("1") + `,"precision":` + st("2") + `,"recall":` + st("3") +
		`,"specificity":` + st("4") + `,"accuracy":` + st("5") + `,"hd95":` + st("6") + `}`
	if string(b) != wantJSON {
		t.Errorf("class JSON\n got %s\nwant %s", b, wantJSON)
	}
	var back ClassSummary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Index != 1 || back.Counts != c.Counts || back.Stats[HD95].Mean != 6 || !back.Stats[Dice].Dataset.IsNaN() {
		t.Errorf("round trip gave %+v", back)
	}

	m := Means{Dice: 0.25, HD95: Float(math.NaN())}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"dice":0.25,"iou":0,"precision":0,"recall":0,"specificity":0,"accuracy":0,"hd95":null}`; string(b) != want {
		t.Errorf("means JSON\n got %s\nwant %s", b, want)
	}
	var mb Means
	if err := json.Unmarshal([]byte(`{"iou":0.5}`), &mb); err != nil {
		t.Fatal(err)
	}
	if mb[IoU] != 0.5 || !mb[Dice].IsNaN() {
		t.Errorf("means from a partial object: %v", mb)
	}
}

// TestScoresOfUsesEveryDefinition checks each metric of ScoresOf against its formula
// written out here, on counts where every metric differs.
func TestScoresOfUsesEveryDefinition(t *testing.T) {
	c := Confusion{TP: 3, FP: 1, FN: 2, TN: 10}
	got := ScoresOf(c, 7, EmptyNaN)
	want := Scores{
		Dice: 6.0 / 9, IoU: 3.0 / 6, Precision: 3.0 / 4, Recall: 3.0 / 5,
		Specificity: 10.0 / 11, Accuracy: 13.0 / 16, HD95: 7,
	}
	for _, m := range Metrics() {
		if math.Abs(got[m]-want[m]) > 1e-15 {
			t.Errorf("%s = %v, want %v", m, got[m], want[m])
		}
	}
}
