package main

// segment serve: a local web app that predicts uploaded images, browses a data set's
// predictions and serves reports. The page is plain HTML, CSS and JavaScript embedded in the
// binary (serve/); everything the server writes goes into one temporary folder, removed on
// exit.

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segment-dev/segment/dataset"
	"github.com/segment-dev/segment/internal/atomicfile"
	"github.com/segment-dev/segment/metrics"
	"github.com/segment-dev/segment/predict"
	"github.com/segment-dev/segment/unet"
	"github.com/segment-dev/segment/weights"
)

//go:embed serve
var serveAssets embed.FS

// serveCommand is the table entry of segment serve.
func serveCommand() *command {
	return &command{
		name:  "serve",
		args:  "",
		short: "a local web app: predict uploaded images, browse a data set, read reports",
		long: `
Serve runs a small web app on this machine (open the address it prints):

  - drop or choose an image: it is predicted with --model (default: the embedded
    sample model; several, comma-separated or a folder, are an ensemble, as for
    predict) and shown with the classes drawn over it, with an opacity slider
    and a switch per class; the mask downloads as NAME_mask.png, the same bytes
    segment predict writes for the image with the same --model;
  - with --data DIR (a folder with images/ and masks/, or a data set root whose
    test/ is used): the data set's images, each predicted on a click, with the
    per-image scores and the HTML report of their evaluation (as eval --report);
  - the reports under --reports DIR (each folder holding an index.html).

Uploads are refused with a message (and HTTP 4xx) when they are not a PNG,
JPEG, TIFF, BMP or GIF image, are over --max-mb, have more than --max-pixels
pixels (read from the header, before decoding) or have a number of channels the
model does not take. Predictions run one at a time; --queue more wait, and
requests beyond that are answered 503 with Retry-After.

Serve listens on 127.0.0.1 (this machine only) unless --listen says otherwise;
there is no authentication, so another address prints a warning. It writes
nothing but a temporary folder, removed when it stops (Ctrl-C or SIGTERM).`,
		flags: serveFlags,
	}
}

func serveFlags(fs *flag.FlagSet) func(*flag.FlagSet, io.Writer, io.Writer) error {
	var inf inferenceFlags
	var o serveOptions
	fs.StringVar(&o.model, "model", "", modelFlagUsage)
	fs.StringVar(&o.data, "data", "", "data set folder to browse: images/ (and masks/ for scores), or a root with test/")
	fs.StringVar(&o.reports, "reports", "", "folder of reports to serve (its subfolders holding index.html)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on; anything but 127.0.0.1 or localhost is reachable by others, without authentication")
	fs.IntVar(&o.queue, "queue", 8, "predictions that may wait for the one running; more are answered 503")
	maxMB := fs.Int("max-mb", 64, "largest upload, in MiB")
	fs.IntVar(&o.maxPixels, "max-pixels", 64<<20, "largest upload, in pixels (width times height), checked before decoding")
	inf.register(fs)
	return func(fs *flag.FlagSet, stdout, errOut io.Writer) error {
		if err := noArgs(fs); err != nil {
			return err
		}
		if o.queue < 1 || *maxMB < 1 || o.maxPixels < 1 {
			return usagef("--queue, --max-mb and --max-pixels want positive numbers")
		}
		o.maxBytes = int64(*maxMB) << 20
		var err error
		if o.predict, err = inf.options(); err != nil {
			return err
		}
		ctx, stop := interruptible()
		defer stop()
		return serveUntil(ctx, o, stdout, errOut, nil)
	}
}

// serveOptions are serve's flags.
type serveOptions struct {
	model, data, reports, listen string
	queue                        int
	maxBytes                     int64
	maxPixels                    int
	predict                      predict.Options
}

// serveUntil serves until ctx is done, then shuts down and removes its temporary folder.
// listening, when not nil, is told the address once the server listens (for tests).
func serveUntil(ctx context.Context, o serveOptions, stdout, errOut io.Writer, listening func(addr string)) error {
	if w := listenWarning(o.listen); w != "" {
		fmt.Fprintln(errOut, w)
	}
	tmp, err := os.MkdirTemp("", "segment-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	s, err := newServer(o, tmp, errOut)
	if err != nil {
		return err
	}
	defer s.close()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	// Requests run under base, cancelled at shutdown, so that a prediction in progress stops.
	base, stopRequests := context.WithCancel(context.Background())
	defer stopRequests()
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base }}
	fmt.Fprintf(stdout, "serving %s on http://%s/ (Ctrl-C stops)\n", s.modelName, ln.Addr())
	if listening != nil {
		listening(ln.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	stopRequests()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	return nil
}

// listenWarning is the warning printed for an address reachable from other machines, ""
// for a loopback one.
func listenWarning(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return ""
	}
	return fmt.Sprintf("segment serve: warning: listening on %s, which other machines may reach: there is no authentication, anyone who reaches it can upload images and read the data and reports it serves", addr)
}

// server is the web app's state. One goroutine owns the Predictor (it is not safe for
// concurrent use) and runs the tasks of the queue one at a time.
type server struct {
	o         serveOptions
	modelName string
	cfg       unet.Config
	meta      weights.Meta
	classes   dataset.Classes

	tmp     string // the temporary folder: results/ and reports/
	tasks   chan func(*predict.Predictor)
	quit    chan struct{} // closed to stop the predicting goroutine
	stopped chan struct{} // closed when it has stopped
	// cancel stops the scoring of --data, and scored is closed when it has stopped.
	cancel func()
	scored chan struct{}
	seq    atomic.Int64

	mu      sync.Mutex
	results []string // result folders, oldest first, at most maxResults

	images  map[string]string // the --data images by name (file name)
	names   []string          // their names, sorted
	dataDir string            // the folder they are in
	scores  map[string][]float64
	scoring string // what the scoring of --data is doing, for the page

	reports map[string]string // report name to folder
}

// maxResults is how many predictions are kept on disk for the page to show; older ones are
// removed.
const maxResults = 64

// madeReport is the name under which the report serve makes of --data is served.
const madeReport = "data-set"

// newServer loads the model (or the ensemble), lists --data and --reports, and starts the
// predicting goroutine and the scoring of --data (its problems are printed to errOut).
func newServer(o serveOptions, tmp string, errOut io.Writer) (*server, error) {
	models, metas, name, err := loadModels(o.model)
	if err != nil {
		return nil, err
	}
	meta := metas[0] // an ensemble's models agree on what is read of it, but for TTA's mirrors
	m := models[0]   // an ensemble's models agree on all that is read of m here
	if err := checkTile(o.predict.Tile, models, "serve", errOut); err != nil {
		return nil, err
	}
	if err := meta.Validate(m.Config); err != nil {
		return nil, err
	}
	if c := m.Config.InChannels; c != 1 && c != 3 {
		return nil, fmt.Errorf("%s takes %d input channels; serve reads images as 1 (gray) or 3 (RGB)", name, c)
	}
	p, err := newPredictor(models, metas, o.predict)
	if err != nil {
		return nil, err
	}
	s := &server{o: o, modelName: name, cfg: m.Config, meta: meta, classes: meta.ClassesFor(m.Config), tmp: tmp,
		tasks: make(chan func(*predict.Predictor), o.queue), quit: make(chan struct{}), stopped: make(chan struct{}), scored: make(chan struct{}), reports: map[string]string{}}
	for _, d := range []string{"results", "reports"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o700); err != nil {
			p.Close()
			return nil, err
		}
	}
	if err := s.listData(); err != nil {
		p.Close()
		return nil, err
	}
	if err := s.listReports(); err != nil {
		p.Close()
		return nil, err
	}
	go func() {
		defer close(s.stopped)
		defer p.Close()
		for {
			select {
			case t := <-s.tasks:
				t(p)
			case <-s.quit:
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		defer close(s.scored)
		if o.data != "" {
			s.scoreData(ctx, errOut)
		}
	}()
	return s, nil
}

// close stops the scoring of --data and the predicting goroutine, after the task it is
// running; tasks still queued are dropped (their requests are being shut down). The tasks
// channel stays open, so that a request still arriving is not a panic.
func (s *server) close() {
	s.cancel()
	<-s.scored
	close(s.quit)
	<-s.stopped
}

// listData lists the images of --data.
func (s *server) listData() error {
	if s.o.data == "" {
		return nil
	}
	// predict.Inputs takes a path that is not a folder for an image file, read later: a
	// --data that is missing or a file must fail here, before serve listens.
	if fi, err := os.Stat(s.o.data); err != nil {
		return fmt.Errorf("--data: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("--data %s: not a folder", s.o.data)
	}
	dir := s.o.data
	if f, err := evalFolder(dir); err == nil {
		dir = f
	}
	if isFolder(filepath.Join(dir, "images")) {
		dir = filepath.Join(dir, "images")
	}
	files, problems := predict.Inputs([]string{dir})
	if len(files) == 0 {
		if len(problems) > 0 {
			return fmt.Errorf("--data: %v", problems[0])
		}
		return fmt.Errorf("--data %s: no images", s.o.data)
	}
	s.dataDir, s.images = dir, map[string]string{}
	for _, f := range files {
		name := filepath.Base(f)
		s.images[name] = f
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	return nil
}

// listReports finds the reports under --reports: the folder itself when it holds
// index.html, else each subfolder that does.
func (s *server) listReports() error {
	if s.o.reports == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(s.o.reports, "index.html")); err == nil {
		s.reports[filepath.Base(filepath.Clean(s.o.reports))] = s.o.reports
		return nil
	}
	des, err := os.ReadDir(s.o.reports)
	if err != nil {
		return fmt.Errorf("--reports: %w", err)
	}
	for _, de := range des {
		dir := filepath.Join(s.o.reports, de.Name())
		if _, err := os.Stat(filepath.Join(dir, "index.html")); err == nil && de.IsDir() && de.Name() != madeReport {
			s.reports[de.Name()] = dir
		}
	}
	return nil
}

// scoreData evaluates --data as eval --report does, when it has masks, into the temporary
// folder, and keeps each image's scores for the page. It runs beside the queue, with its
// own copy of the model.
func (s *server) scoreData(ctx context.Context, errOut io.Writer) {
	s.setScoring("scoring the data set")
	folder, err := evalFolder(s.o.data)
	if err != nil || !isFolder(filepath.Join(folder, "masks")) {
		s.setScoring("no masks: no scores")
		return
	}
	rep := &reportRun{dir: filepath.Join(s.tmp, "reports", madeReport), model: s.o.model}
	rep.seen = func(sc predict.Scored) {
		d := make([]float64, len(sc.Result.Scores))
		for k, c := range sc.Result.Scores {
			d[k] = float64(c[metrics.Dice])
		}
		s.mu.Lock()
		if s.scores == nil {
			s.scores = map[string][]float64{}
		}
		s.scores[sc.Name] = d
		s.mu.Unlock()
	}
	t := &tally{cmd: "serve", errOut: errOut, quiet: true}
	_, acc, _, err := scoreModel(ctx, s.o.model, s.o.data, dataset.Options{}, metrics.EmptyNaN, s.o.predict, nil, t, rep, nil)
	if err == nil {
		err = rep.finish(acc.Summary())
	}
	if err != nil {
		rep.abort()
		if ctx.Err() == nil {
			fmt.Fprintf(errOut, "segment serve: scoring %s: %v\n", s.o.data, err)
			s.setScoring("scoring failed: " + err.Error())
		}
		return
	}
	s.mu.Lock()
	s.reports[madeReport] = rep.dir
	s.scoring = ""
	s.mu.Unlock()
}

func (s *server) setScoring(msg string) {
	s.mu.Lock()
	s.scoring = msg
	s.mu.Unlock()
}

// handler routes the app's URLs.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(serveAssets, "serve")
	mux.Handle("GET /{$}", fileHandler(static, "index.html"))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /api/info", s.info)
	mux.HandleFunc("POST /api/predict", s.predictUpload)
	mux.HandleFunc("POST /api/data/{name}", s.predictData)
	mux.HandleFunc("GET /results/{id}/{file}", s.result)
	mux.HandleFunc("GET /data/{file}", s.dataFile)
	mux.HandleFunc("GET /reports/{name}/{path...}", s.report)
	return mux
}

// fileHandler serves one file of fsys.
func fileHandler(fsys fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, fsys, name)
	})
}

// classInfo is a class as the page draws it.
type classInfo struct {
	Index  int    `json:"index"`
	Value  int    `json:"value"`
	Name   string `json:"name"`
	Colour string `json:"colour"` // #rrggbb
	Drawn  bool   `json:"drawn"`  // drawn over the image by default
}

// info tells the page the model, its classes, the data set and the reports.
func (s *server) info(w http.ResponseWriter, r *http.Request) {
	colours, drawn := predict.OverlayColours(s.classes)
	var classes []classInfo
	for k, v := range s.classes.Values {
		c := colours[k]
		if !drawn[k] {
			c = color.RGBA{128, 128, 128, 255}
		}
		classes = append(classes, classInfo{Index: k, Value: v, Name: s.classes.Name(k), Colour: fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B), Drawn: drawn[k]})
	}
	type dataImage struct {
		Name string    `json:"name"`
		Dice []float64 `json:"dice,omitempty"`
	}
	s.mu.Lock()
	data := make([]dataImage, 0, len(s.names))
	for _, n := range s.names {
		d := dataImage{Name: n}
		for _, x := range s.scores[strings.TrimSuffix(n, filepath.Ext(n))] {
			d.Dice = append(d.Dice, nanToMinus(x))
		}
		data = append(data, d)
	}
	reports := make([]string, 0, len(s.reports))
	for name := range s.reports {
		reports = append(reports, name)
	}
	scoring := s.scoring
	s.mu.Unlock()
	slices.Sort(reports)
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"model": s.modelName, "channels": s.cfg.InChannels, "classes": classes,
		"data": data, "scoring": scoring, "reports": reports,
		"max_bytes": s.o.maxBytes, "max_pixels": s.o.maxPixels,
	})
}

// nanToMinus gives -1 for NaN, which JSON cannot hold (a class absent from the image).
func nanToMinus(x float64) float64 {
	if x != x {
		return -1
	}
	return x
}

// writeJSONStatus answers v as JSON with the status code.
func writeJSONStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// httpError answers a request that cannot be served: the status and a message for people.
func httpError(w http.ResponseWriter, code int, format string, a ...any) {
	writeJSONStatus(w, code, map[string]string{"error": fmt.Sprintf(format, a...)})
}

// predictUpload predicts the image in the request's body (its file name in ?name=). The
// upload is checked for size, format, pixel count and channels before it is decoded.
func (s *server) predictUpload(w http.ResponseWriter, r *http.Request) {
	name := filepath.Base(r.URL.Query().Get("name"))
	if name == "." || name == "/" || name == "" {
		name = "upload.png"
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.maxBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		httpError(w, http.StatusRequestEntityTooLarge, "%s is over the upload limit of %d MiB", name, s.o.maxBytes>>20)
		return
	case err != nil:
		httpError(w, http.StatusBadRequest, "%s: the upload broke off: %v", name, err)
		return
	case len(body) == 0:
		httpError(w, http.StatusBadRequest, "the upload is empty: choose an image file")
		return
	}
	code, err := s.check(name, body)
	if err != nil {
		httpError(w, code, "%v", err)
		return
	}
	dir, id, err := s.newResult()
	if err != nil {
		httpError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	ext := filepath.Ext(name)
	path := filepath.Join(dir, "upload"+ext)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		httpError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	body = nil
	s.run(w, r, name, path, dir, id)
}

// check says why an upload cannot be predicted, from its header alone, with the HTTP status.
func (s *server) check(name string, body []byte) (int, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return http.StatusUnsupportedMediaType, fmt.Errorf("%s is not an image that can be read (PNG, JPEG, TIFF, BMP or GIF): %v", name, err)
	}
	if px := cfg.Width * cfg.Height; cfg.Width <= 0 || cfg.Height <= 0 || px > s.o.maxPixels || px/cfg.Width != cfg.Height {
		return http.StatusRequestEntityTooLarge, fmt.Errorf("%s is %dx%d pixels, over the limit of %d pixels", name, cfg.Width, cfg.Height, s.o.maxPixels)
	}
	c := channels(cfg.ColorModel)
	if format == "png" && len(body) > 25 && body[25] == 4 {
		c = 1 // gray+alpha, which Go decodes as RGBA: read as gray, the alpha dropped
	}
	if c != s.cfg.InChannels {
		return http.StatusUnprocessableEntity, fmt.Errorf("%s is a %s %s image (%d channels); the model takes %s images (%d channel%s)",
			name, channelWord(c), strings.ToUpper(format), c, channelWord(s.cfg.InChannels), s.cfg.InChannels, plural(s.cfg.InChannels))
	}
	return 0, nil
}

// channels is 1 for a gray colour model (a palette of grays included), else 3, as the
// images are read.
func channels(m color.Model) int {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return 1
	}
	if p, ok := m.(color.Palette); ok {
		for _, c := range p {
			r, g, b, _ := c.RGBA()
			if r != g || g != b {
				return 3
			}
		}
		return 1
	}
	return 3
}

func channelWord(c int) string {
	if c == 1 {
		return "gray"
	}
	return "colour"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// predictData predicts an image of --data, named by its file name.
func (s *server) predictData(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	path, ok := s.images[name]
	if !ok {
		httpError(w, http.StatusNotFound, "%q is not an image of the data set", name)
		return
	}
	dir, id, err := s.newResult()
	if err != nil {
		httpError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	s.run(w, r, name, path, dir, id)
}

// newResult makes the folder of a new prediction.
func (s *server) newResult() (dir, id string, err error) {
	id = strconv.FormatInt(s.seq.Add(1), 10)
	dir = filepath.Join(s.tmp, "results", id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", "", err
	}
	return dir, id, nil
}

// keepResult records a finished prediction's folder, removing the oldest beyond maxResults
// (a folder still waiting in the queue is never among them).
func (s *server) keepResult(dir string) {
	s.mu.Lock()
	s.results = append(s.results, dir)
	var old []string
	if n := len(s.results) - maxResults; n > 0 {
		old = slices.Clone(s.results[:n])
		s.results = slices.Delete(s.results, 0, n)
	}
	s.mu.Unlock()
	for _, o := range old {
		os.RemoveAll(o)
	}
}

// predictResult is what the page is told of a prediction.
type predictResult struct {
	Name     string `json:"name"`
	W        int    `json:"width"`
	H        int    `json:"height"`
	Image    string `json:"image"`    // the image as PNG, for the browser to show
	Classes  string `json:"classes"`  // the class index of every pixel, 8-bit gray PNG
	Mask     string `json:"mask"`     // the mask as segment predict writes it
	Download string `json:"download"` // the mask's file name: NAME_mask.png
}

// run queues the prediction of the image at path into dir and answers with its result;
// a full queue is answered 503 with Retry-After.
func (s *server) run(w http.ResponseWriter, r *http.Request, name, path, dir, id string) {
	type outcome struct {
		res predictResult
		err error
	}
	done := make(chan outcome, 1)
	ctx := r.Context()
	task := func(p *predict.Predictor) {
		if ctx.Err() != nil { // the client went away while it waited
			os.RemoveAll(dir)
			done <- outcome{err: ctx.Err()}
			return
		}
		res, err := s.predictFile(ctx, p, name, path, dir, id)
		if err != nil {
			os.RemoveAll(dir)
		} else {
			s.keepResult(dir)
		}
		done <- outcome{res, err}
	}
	select {
	case s.tasks <- task:
	default:
		os.RemoveAll(dir)
		w.Header().Set("Retry-After", "2")
		httpError(w, http.StatusServiceUnavailable, "the server is busy (%d predictions waiting): try again in a few seconds", cap(s.tasks))
		return
	}
	select {
	case o := <-done:
		if o.err != nil {
			httpError(w, http.StatusUnprocessableEntity, "%s: %v", name, o.err)
			return
		}
		writeJSONStatus(w, http.StatusOK, o.res)
	case <-ctx.Done():
	}
}

// predictFile predicts the image at path and writes into dir its mask (predict's own
// writer, so the bytes are segment predict's), its class-index map and the image as PNG.
func (s *server) predictFile(ctx context.Context, p *predict.Predictor, name, path, dir, id string) (predictResult, error) {
	img, err := dataset.ReadImage(path, s.cfg.InChannels, s.o.maxPixels)
	if err != nil {
		var de *dataset.Error
		if errors.As(err, &de) {
			return predictResult{}, errors.New(strings.TrimPrefix(err.Error(), path+": "))
		}
		return predictResult{}, err
	}
	outs, err := predict.NewOutputs(s.classes, img.Width, img.Height, predict.OutputOptions{})
	if err != nil {
		return predictResult{}, err
	}
	idx := image.NewGray(image.Rect(0, 0, img.Width, img.Height))
	err = p.Predict(ctx, predict.FromImage(img), func(b predict.Band) error {
		predict.Decide(b, idx.Pix[b.Y*b.Width:(b.Y+b.Rows)*b.Width])
		return outs.Band(b)
	})
	if err != nil {
		return predictResult{}, err
	}
	if err := outs.Write(predict.Paths{Mask: filepath.Join(dir, "mask.png")}); err != nil {
		return predictResult{}, err
	}
	if err := atomicfile.WritePNG(filepath.Join(dir, "classes.png"), idx); err != nil {
		return predictResult{}, err
	}
	if err := atomicfile.WritePNG(filepath.Join(dir, "image.png"), img.Decoded()); err != nil {
		return predictResult{}, err
	}
	base := "/results/" + id + "/"
	return predictResult{Name: name, W: img.Width, H: img.Height, Image: base + "image.png", Classes: base + "classes.png",
		Mask: base + "mask.png", Download: filepath.Base(predict.OutputPaths(name, "", s.classes).Mask)}, nil
}

// result serves a file of a prediction. Only the three files a prediction makes are
// served, and ids are numbers, so no path reaches outside the results.
func (s *server) result(w http.ResponseWriter, r *http.Request) {
	id, file := r.PathValue("id"), r.PathValue("file")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil || !slices.Contains([]string{"image.png", "classes.png", "mask.png"}, file) {
		http.NotFound(w, r)
		return
	}
	if file == "mask.png" {
		if n := r.URL.Query().Get("download"); n != "" {
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filepath.Base(n)))
		}
	}
	serveInside(w, r, filepath.Join(s.tmp, "results", id), file)
}

// dataFile serves an image file of --data: only the files listed, by name.
func (s *server) dataFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if _, ok := s.images[name]; !ok {
		http.NotFound(w, r)
		return
	}
	serveInside(w, r, s.dataDir, name)
}

// report serves a file of a report.
func (s *server) report(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	dir, ok := s.reports[r.PathValue("name")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	p := r.PathValue("path")
	if p == "" {
		p = "index.html"
	}
	serveInside(w, r, dir, p)
}

// serveInside serves the file name inside dir, through an os.Root: a name that would leave
// dir (.., an absolute path, a symbolic link pointing out) is refused by the file system
// itself, not by checks here that could be missed.
func serveInside(w http.ResponseWriter, r *http.Request, dir, name string) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()
	if !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	f, err := root.Open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, name, st.ModTime(), f)
}
