package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segment-dev/segment/predict"
)

// testServer starts serve's handler on 127.0.0.1 for the options (the sample model unless
// o.model is set); the test's end stops it.
func testServer(t *testing.T, o serveOptions) (*server, *httptest.Server) {
	t.Helper()
	if o.queue == 0 {
		o.queue = 8
	}
	if o.maxBytes == 0 {
		o.maxBytes = 64 << 20
	}
	if o.maxPixels == 0 {
		o.maxPixels = 64 << 20
	}
	s, err := newServer(o, t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.handler())
	t.Cleanup(func() { ts.Close(); s.close() })
	return s, ts
}

// pngBytes encodes an image as PNG.
func pngBytes(t *testing.T, im image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, im); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// grayImage is a w x h gray image with a pattern the sample model finds something in.
func grayImage(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if (x/8+y/8)%2 == 0 {
				g.Pix[y*w+x] = 200
			} else {
				g.Pix[y*w+x] = 30
			}
		}
	}
	return g
}

// upload posts body as an upload named name and decodes the JSON answer.
func upload(t *testing.T, c *http.Client, url, name string, body []byte) (int, map[string]any, http.Header) {
	t.Helper()
	resp, err := c.Post(url+"/api/predict?name="+name, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("upload %s: HTTP %d, not JSON: %q", name, resp.StatusCode, raw)
	}
	return resp.StatusCode, v, resp.Header
}

func get(t *testing.T, url string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}

// TestServeMaskIsPredicts uploads an image and downloads its mask: the bytes are those of
// segment predict's NAME_mask.png for the same image, and the class map agrees with it.
func TestServeMaskIsPredicts(t *testing.T) {
	_, ts := testServer(t, serveOptions{})
	img := "../../sample_data/val/images/0000.png"
	body, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	code, res, _ := upload(t, ts.Client(), ts.URL, "0000.png", body)
	if code != http.StatusOK {
		t.Fatalf("HTTP %d: %v", code, res)
	}
	if res["download"] != "0000_mask.png" {
		t.Errorf("download name %v, want 0000_mask.png", res["download"])
	}
	code, mask, h := get(t, ts.URL+res["mask"].(string)+"?download=0000_mask.png")
	if code != http.StatusOK || !strings.Contains(h.Get("Content-Disposition"), `filename="0000_mask.png"`) {
		t.Fatalf("mask: HTTP %d, Content-Disposition %q", code, h.Get("Content-Disposition"))
	}
	out := t.TempDir()
	if code, _, errOut := runCmd("predict", img, "--out", out, "-q"); code != exitOK {
		t.Fatalf("predict: exit %d: %s", code, errOut)
	}
	want, err := os.ReadFile(filepath.Join(out, "0000_mask.png"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mask, want) {
		t.Fatalf("serve's mask (%d bytes) differs from predict's (%d bytes)", len(mask), len(want))
	}
	_, cls, _ := get(t, ts.URL+res["classes"].(string))
	ci, err := png.Decode(bytes.NewReader(cls))
	if err != nil {
		t.Fatal(err)
	}
	mi, err := png.Decode(bytes.NewReader(mask))
	if err != nil {
		t.Fatal(err)
	}
	fg := 0
	b := mi.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			k := color.GrayModel.Convert(ci.At(x, y)).(color.Gray).Y
			v := color.GrayModel.Convert(mi.At(x, y)).(color.Gray).Y
			if (k == 1) != (v == 255) || k > 1 {
				t.Fatalf("(%d,%d): class %d, mask value %d", x, y, k, v)
			}
			fg += int(k)
		}
	}
	if fg == 0 {
		t.Errorf("no foreground predicted: the comparison proves little")
	}
}

// TestServeBadUploads sends every kind of bad upload: each gets its 4xx and a message
// naming the problem, and the server goes on predicting.
func TestServeBadUploads(t *testing.T) {
	_, ts := testServer(t, serveOptions{maxBytes: 20000, maxPixels: 128 * 128})
	c := ts.Client()
	// A PNG header claiming 100000x100000 pixels and no pixel data: refused on its header,
	// as decoding it would fail differently (or take 10 GB).
	var huge bytes.Buffer
	png.Encode(&huge, image.NewGray(image.Rect(0, 0, 1, 1)))
	hdr := huge.Bytes()[:33]
	copy(hdr[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	binary.BigEndian.PutUint32(hdr[29:33], crc32.ChecksumIEEE(hdr[12:29]))
	noise := image.NewGray(image.Rect(0, 0, 120, 120))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.Uint32())
	}
	rgb := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i * 31)
	}
	cases := []struct {
		name string
		body []byte
		code int
		msg  string
	}{
		{"notes.txt", []byte("this is not an image\n"), http.StatusUnsupportedMediaType, "not an image"},
		{"empty.png", nil, http.StatusBadRequest, "empty"},
		{"big.png", bytes.Repeat(pngBytes(t, noise), 2), http.StatusRequestEntityTooLarge, "over the upload limit"},
		{"wide.png", hdr, http.StatusRequestEntityTooLarge, "100000x100000 pixels, over the limit of 16384"},
		{"colour.png", pngBytes(t, rgb), http.StatusUnprocessableEntity, "colour PNG image (3 channels); the model takes gray images (1 channel)"},
	}
	for _, tc := range cases {
		code, res, _ := upload(t, c, ts.URL, tc.name, tc.body)
		msg, _ := res["error"].(string)
		if code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: HTTP %d %q, want %d with %q", tc.name, code, msg, tc.code, tc.msg)
		}
	}
	if code, res, _ := upload(t, c, ts.URL, "ok.png", pngBytes(t, grayImage(64, 64))); code != http.StatusOK {
		t.Errorf("a good upload after the bad ones: HTTP %d %v", code, res)
	}
	if code, res, _ := upload(t, c, ts.URL, "gray-alpha.png", grayAlphaPNG(t, 16, 16)); code != http.StatusOK {
		t.Errorf("a gray+alpha PNG (gray, as predict reads it): HTTP %d %v", code, res)
	}
}

// grayAlphaPNG writes a w x h PNG of colour type 4 (gray+alpha), which Go's encoder never
// writes, chunk by chunk.
func grayAlphaPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		body := append([]byte(kind), data...)
		out.Write(body)
		binary.Write(&out, binary.BigEndian, crc32.ChecksumIEEE(body))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 4 // 8 bits, gray+alpha
	chunk("IHDR", ihdr)
	var raw bytes.Buffer
	for y := range h {
		raw.WriteByte(0) // no filter
		for x := range w {
			raw.Write([]byte{uint8(x * y), 255})
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	if _, err := png.Decode(bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("the gray+alpha PNG made for the test does not decode: %v", err)
	}
	return out.Bytes()
}

// TestServeQueueFull fills the queue: the next request is answered 503 with Retry-After,
// and once the queue drains requests are served again.
func TestServeQueueFull(t *testing.T) {
	s, ts := testServer(t, serveOptions{queue: 1})
	release := make(chan struct{})
	started := make(chan struct{})
	s.tasks <- func(*predict.Predictor) { close(started); <-release } // the one running
	<-started
	s.tasks <- func(*predict.Predictor) {} // the one waiting: the queue is full
	body := pngBytes(t, grayImage(32, 32))
	code, res, h := upload(t, ts.Client(), ts.URL, "a.png", body)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(fmt.Sprint(res["error"]), "busy") {
		t.Errorf("full queue: HTTP %d, Retry-After %q, %v; want 503 with Retry-After", code, h.Get("Retry-After"), res)
	}
	close(release)
	// The queue drains once the predicting goroutine has taken the waiting task: until
	// then a request would still find it full (the test's race, not serve's).
	for deadline := time.Now().Add(10 * time.Second); len(s.tasks) > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if code, res, _ := upload(t, ts.Client(), ts.URL, "a.png", body); code != http.StatusOK {
		t.Errorf("after the queue drained: HTTP %d %v", code, res)
	}
}

// rawGet sends path as it is, unnormalised, and gives the status and body, following one
// redirect (the mux's own cleaning of the path) with a normal client.
func rawGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		if strings.HasPrefix(loc, "/") {
			loc = base + loc
		}
		code, b, _ := get(t, loc)
		return code, string(b)
	}
	return resp.StatusCode, string(body)
}

// TestServePathEscapes asks for files outside the data and report folders with .., encoded
// %2e%2e and absolute paths: none is served, while the files inside are.
func TestServePathEscapes(t *testing.T) {
	root := t.TempDir()
	const secret = "SECRET-CONTENTS-42"
	for _, p := range []string{"secret.txt", "data/secret.txt", "reports/secret.txt"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(root, p), []byte(secret), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeGrayPNG(t, filepath.Join(root, "data", "images", "a.png"), 8, 8, nil)
	if err := os.MkdirAll(filepath.Join(root, "reports", "r"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "reports", "r", "index.html"), []byte("<p>report</p>"), 0o644)
	os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(root, "reports", "r", "link.txt"))
	_, ts := testServer(t, serveOptions{data: filepath.Join(root, "data"), reports: filepath.Join(root, "reports")})

	for _, ok := range []string{"/data/a.png", "/reports/r/", "/reports/r/index.html"} {
		if code, _ := rawGet(t, ts.URL, ok); code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d, want 200", ok, code)
		}
	}
	abs := filepath.Join(root, "secret.txt")
	for _, p := range []string{
		"/data/../secret.txt", "/data/../../secret.txt", "/data/%2e%2e/secret.txt", "/data/%2e%2e%2fsecret.txt",
		"/data/..%2f..%2fsecret.txt", "/data/" + abs, "/data/%2f" + strings.TrimPrefix(abs, "/"), "/data/images/../../secret.txt",
		"/reports/r/../secret.txt", "/reports/r/%2e%2e/secret.txt", "/reports/r/%2e%2e%2fsecret.txt", "/reports/r/..%2f..%2fsecret.txt",
		"/reports/r/" + abs, "/reports/r//" + abs, "/reports/r/%2F" + strings.TrimPrefix(abs, "/"), "/reports/r/link.txt",
		"/reports/..%2fsecret.txt/x", "/reports/%2e%2e/secret.txt",
		"/results/1/..%2f..%2f..%2fsecret.txt", "/results/..%2f..%2fsecret.txt/mask.png",
		"/static/../../secret.txt", "/static/%2e%2e/%2e%2e/secret.txt",
	} {
		code, body := rawGet(t, ts.URL, p)
		if strings.Contains(body, secret) {
			t.Errorf("GET %s: HTTP %d served a file outside the folders", p, code)
		}
		if code == http.StatusOK {
			t.Errorf("GET %s: HTTP 200", p)
		}
	}
}

// TestServeLoad sends 200 predictions at once to a server with a queue of 8: each gets 200
// or 503, and afterwards the server answers and its heap is back near where it started.
func TestServeLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: 200 requests")
	}
	_, ts := testServer(t, serveOptions{queue: 8})
	body := pngBytes(t, grayImage(64, 64))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 5 * time.Minute}
	defer client.CloseIdleConnections()
	heap := func() uint64 {
		client.CloseIdleConnections()
		var m runtime.MemStats
		for range 3 {
			runtime.GC()
		}
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// burst sends n requests at once and gives their statuses.
	burst := func(n int) []int {
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp, err := client.Post(ts.URL+"/api/predict?name=load.png", "image/png", bytes.NewReader(body))
				if err != nil {
					codes[i] = -1
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		return codes
	}
	// The first burst of concurrent connections allocates what the process keeps for good
	// and reuses (the runtime's records of the 800 or so goroutines of 200 connections on
	// both sides, net/http's tables): the heap is measured from after a first burst, so
	// that what the second leaves behind is what the server keeps per request.
	const n = 200
	burst(n)
	before := heap()
	codes := burst(n)
	count := map[int]int{}
	for _, c := range codes {
		count[c]++
	}
	t.Logf("%d requests: %v", n, count)
	if count[200]+count[503] != n || count[200] == 0 || count[503] == 0 {
		t.Errorf("status counts %v: want only 200 and 503, some of each", count)
	}
	if code, res, _ := upload(t, client, ts.URL, "after.png", body); code != http.StatusOK {
		t.Errorf("after the load: HTTP %d %v", code, res)
	}
	// The connections of the 200 requests close on the server's side a moment after the
	// client's: the heap is measured until it settles, for up to 5 s.
	after := heap()
	for i := 0; i < 50 && float64(after) > 1.2*float64(before); i++ {
		time.Sleep(100 * time.Millisecond)
		after = heap()
	}
	t.Logf("heap: %d KiB before, %d KiB after", before>>10, after>>10)
	if float64(after) > 1.2*float64(before) {
		t.Errorf("heap %d KiB after the load, %d KiB before: more than 20%% above", after>>10, before>>10)
	}
}

// TestServeShutdown runs serve until its context ends: it answers, stops, and leaves
// nothing behind in the temporary folder's parent.
func TestServeShutdown(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	var stdout, errOut bytes.Buffer
	o := serveOptions{listen: "127.0.0.1:0", queue: 2, maxBytes: 1 << 20, maxPixels: 1 << 20}
	go func() { done <- serveUntil(ctx, o, &stdout, &errOut, func(a string) { addr <- a }) }()
	a := <-addr
	if code, res, _ := upload(t, http.DefaultClient, "http://"+a, "x.png", pngBytes(t, grayImage(32, 32))); code != http.StatusOK {
		t.Errorf("HTTP %d %v", code, res)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 {
		t.Errorf("while serving, %s holds %d entries, want the one temporary folder", tmp, len(left))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("after serve stopped, %s still holds %v", tmp, left)
	}
	if errOut.Len() != 0 {
		t.Errorf("on 127.0.0.1 serve printed %q", errOut.String())
	}
}

// TestListenWarning: only loopback addresses go without the warning.
func TestListenWarning(t *testing.T) {
	for addr, warn := range map[string]bool{
		"127.0.0.1:8080": false, "localhost:80": false, "[::1]:8080": false, "127.0.0.2:1": false,
		"0.0.0.0:8080": true, ":8080": true, "192.168.1.5:8080": true, "[::]:80": true, "example.org:80": true,
	} {
		got := listenWarning(addr)
		if (got != "") != warn || (warn && !strings.Contains(got, "no authentication")) {
			t.Errorf("%s: warning %q", addr, got)
		}
	}
}

// TestServeData browses a data set: its images are listed, scored in the background with
// the report of their evaluation served, and predicted by name; a name that is not one of
// them is refused.
func TestServeData(t *testing.T) {
	_, ts := testServer(t, serveOptions{data: "../../sample_data/val"})
	var info struct {
		Data []struct {
			Name string    `json:"name"`
			Dice []float64 `json:"dice"`
		} `json:"data"`
		Reports []string `json:"reports"`
		Scoring string   `json:"scoring"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, b, _ := get(t, ts.URL+"/api/info")
		if err := json.Unmarshal(b, &info); err != nil {
			t.Fatal(err)
		}
		if len(info.Reports) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(info.Data) != 8 || len(info.Reports) != 1 || info.Reports[0] != madeReport {
		t.Fatalf("info: %d images, reports %v, scoring %q; want 8 and [%s]", len(info.Data), info.Reports, info.Scoring, madeReport)
	}
	for _, d := range info.Data {
		if len(d.Dice) != 2 || d.Dice[1] < 0.8 {
			t.Errorf("%s: Dice %v, want two classes, the foreground above 0.8", d.Name, d.Dice)
		}
	}
	if code, page, _ := get(t, ts.URL+"/reports/"+madeReport+"/"); code != http.StatusOK || !bytes.Contains(page, []byte("0007")) {
		t.Errorf("the data set's report: HTTP %d", code)
	}
	resp, err := http.Post(ts.URL+"/api/data/0003.png", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("predicting 0003.png of the data set: HTTP %d", resp.StatusCode)
	}
	for _, name := range []string{"nothere.png", "..%2f..%2fREADME.md", "%2e%2e"} {
		resp, err := http.Post(ts.URL+"/api/data/"+name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("predicting %s: HTTP %d, want 404", name, resp.StatusCode)
		}
	}
}

// TestServeEnsemble: serve --model a,b (and a folder of them) predicts an upload with the
// ensemble: the mask is the bytes segment predict --model a,b writes, and not those of
// either model alone; an ensemble whose models disagree is refused at the start, naming
// the model.
func TestServeEnsemble(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors")
	saveRandomModel(t, a, 2, 3, []int{0, 255})
	saveRandomModel(t, b, 3, 4, []int{0, 255})
	img := "../../sample_data/val/images/0000.png"
	body, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	predicted := func(model string) []byte {
		t.Helper()
		out := t.TempDir()
		if code, _, errOut := runCmd("predict", img, "--model", model, "--out", out, "-q"); code != exitOK {
			t.Fatalf("predict --model %s: exit %d: %s", model, code, errOut)
		}
		m, err := os.ReadFile(filepath.Join(out, "0000_mask.png"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	want := predicted(a + "," + b)
	if bytes.Equal(want, predicted(a)) || bytes.Equal(want, predicted(b)) {
		t.Fatal("the ensemble's mask is one model's: the test cannot tell them apart")
	}
	for _, model := range []string{a + "," + b, dir} {
		_, ts := testServer(t, serveOptions{model: model})
		code, res, _ := upload(t, ts.Client(), ts.URL, "0000.png", body)
		if code != http.StatusOK {
			t.Fatalf("--model %s: HTTP %d: %v", model, code, res)
		}
		code, mask, _ := get(t, ts.URL+res["mask"].(string))
		if code != http.StatusOK || !bytes.Equal(mask, want) {
			t.Errorf("--model %s: HTTP %d, and the mask differs from predict's with the same models", model, code)
		}
		_, info, _ := get(t, ts.URL+"/api/info")
		if !strings.Contains(string(info), "b.safetensors") {
			t.Errorf("--model %s: /api/info does not name the ensemble's models: %s", model, info)
		}
	}
	c := filepath.Join(dir, "c.safetensors")
	saveRandomModel(t, c, 2, 5, []int{0, 1})
	_, err = newServer(serveOptions{model: a + "," + c, queue: 1, maxBytes: 1 << 20, maxPixels: 1 << 20}, t.TempDir(), io.Discard)
	if err == nil || !strings.Contains(err.Error(), c) || !strings.Contains(err.Error(), "mask values") {
		t.Errorf("an ensemble of models with other mask values: %v, want an error naming %s", err, c)
	}
}
