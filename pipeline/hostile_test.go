package pipeline_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect/detecttest"
	"github.com/iamwatch/iamwatch/pipeline"
)

// gzipRecords is a trail file of n IAM records, gzipped.
func gzipRecords(t *testing.T, prefix string, n int) []byte {
	t.Helper()
	var recs []string
	for i := range n {
		recs = append(recs, record(fmt.Sprintf("%s-%03d", prefix, i), "iam.amazonaws.com", "ListUsers", "IAMUser", t0.Add(time.Duration(i)*time.Second)))
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// A gzip stream cut before its trailer (a truncated download) still
// decodes every record: they are stored, and the damage is reported with
// the file name and counted.
func TestDamagedGzipKeepsWhatDecoded(t *testing.T) {
	dir := t.TempDir()
	z := gzipRecords(t, "cut", 100)
	writeFile(t, dir, "cut.json.gz", string(z[:len(z)-8])) // the 8-byte trailer is gone
	st := openStore(t)
	p, err := pipeline.New(st, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Read(context.Background(), inputs, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 100 || rep.Stored != 100 {
		t.Errorf("records %d, stored %d; want 100 and 100", rep.Records, rep.Stored)
	}
	if rep.InputsRejected != 1 || len(rep.Rejections) != 1 {
		t.Fatalf("inputs rejected %d, rejections %v; want the damaged file once", rep.InputsRejected, rep.Rejections)
	}
	r := rep.Rejections[0].String()
	if !strings.Contains(r, "cut.json.gz") || !strings.Contains(r, "gzip") {
		t.Errorf("rejection %q should name the file and say gzip", r)
	}
	if why := rep.Rejections[0].Reason; strings.Contains(why, "cut.json.gz") || strings.Contains(why, "cloudtrail:") {
		t.Errorf("reason %q repeats what the rejection's input says", why)
	}
}

// A gzip stream cut in the middle loses only the records after the cut:
// every record decoded is stored, across the readers' batch boundaries.
func TestGzipCutMidStreamStoresEveryDecodedRecord(t *testing.T) {
	dir := t.TempDir()
	z := gzipRecords(t, "mid", 2000)
	writeFile(t, dir, "mid.json.gz", string(z[:len(z)/2]))
	st := openStore(t)
	p, err := pipeline.New(st, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Read(context.Background(), inputs, pipeline.ReadOptions{BatchSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records == 0 || rep.Records%256 == 0 || rep.Stored != rep.Records {
		t.Errorf("records %d, stored %d; want every decoded record stored (and a count that is not a whole number of batches)", rep.Records, rep.Stored)
	}
	if rep.InputsRejected != 1 {
		t.Errorf("inputs rejected %d, want 1", rep.InputsRejected)
	}
}

// readAll expands args and reads them into a fresh store.
func readAll(t *testing.T, ctx context.Context, args []string, stdin io.Reader) (pipeline.Report, error) {
	t.Helper()
	p, err := pipeline.New(openStore(t), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := pipeline.Expand(args, stdin)
	if err != nil {
		t.Fatal(err)
	}
	return p.Read(ctx, inputs, pipeline.ReadOptions{})
}

func rejected(rep pipeline.Report) string {
	var s []string
	for _, r := range rep.Rejections {
		s = append(s, r.String())
	}
	return strings.Join(s, "\n")
}

func skipped(rep pipeline.Report) string {
	var s []string
	for _, r := range rep.Skipped {
		s = append(s, r.String())
	}
	return strings.Join(s, "\n")
}

// Bad paths are each reported and counted; the rest of the scan goes on.
func TestBadPathsAreReportedAndTheScanGoesOn(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "tree/good.json", `{"Records":[`+record("p1", "iam.amazonaws.com", "CreateUser", "IAMUser", t0)+`]}`)
	other := writeFile(t, dir, "elsewhere/linked.json", `{"Records":[`+record("p2", "iam.amazonaws.com", "CreateUser", "IAMUser", t0)+`]}`)
	tree := filepath.Join(dir, "tree")
	for _, l := range []struct{ target, name string }{
		{other, "link-to-file.json"},                     // read like the file
		{filepath.Join(dir, "nowhere"), "dangling.json"}, // rejected
		{"loop.json", "loop.json"},                       // rejected: too many levels of symbolic links
		{filepath.Join(dir, "elsewhere"), "link-to-dir"}, // skipped, not followed
	} {
		if err := os.Symlink(l.target, filepath.Join(tree, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(tree, "fifo.json"), 0o600); err != nil {
		t.Fatal(err)
	}

	rep, err := readAll(t, context.Background(), []string{tree, filepath.Join(tree, "*.json"), filepath.Join(dir, "missing.json")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 2 {
		t.Errorf("stored %d, want 2 (good.json and the file linked to)", rep.Stored)
	}
	rej := rejected(rep)
	for _, want := range []string{"dangling.json: no such file", "loop.json: too many levels of symbolic links", "missing.json: no such file"} {
		if !strings.Contains(rej, want) {
			t.Errorf("rejections lack %q:\n%s", want, rej)
		}
	}
	// The glob matches the tree's entries again: each bad path once, by Expand's dedupe.
	if rep.InputsRejected != 3 {
		t.Errorf("inputs rejected %d, want 3:\n%s", rep.InputsRejected, rej)
	}
	sk := skipped(rep)
	for _, want := range []string{"link-to-dir: skipped: symlink to a directory", "fifo.json: skipped: not a regular file"} {
		if !strings.Contains(sk, want) {
			t.Errorf("skipped lacks %q:\n%s", want, sk)
		}
	}
	if rep.InputsSkipped != 2 || rep.Inputs != 2 {
		t.Errorf("inputs read %d, skipped %d; want 2 and 2:\n%s", rep.Inputs, rep.InputsSkipped, sk)
	}
	_ = good
}

// An unreadable subdirectory is one rejected input; its siblings are read.
func TestUnreadableSubdirectoryIsRejectedAlone(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads a mode-000 directory; TestWalkErrorIsRejectedAlone covers the walk")
	}
	dir := t.TempDir()
	writeFile(t, dir, "a.json", `{"Records":[`+record("u1", "iam.amazonaws.com", "CreateUser", "IAMUser", t0)+`]}`)
	writeFile(t, dir, "zlocked/b.json", `{"Records":[`+record("u2", "iam.amazonaws.com", "CreateUser", "IAMUser", t0)+`]}`)
	locked := filepath.Join(dir, "zlocked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(locked, 0o755) }) // lets TempDir's cleanup remove it
	rep, err := readAll(t, context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 1 || rep.InputsRejected != 1 || !strings.Contains(rejected(rep), "zlocked: permission denied") {
		t.Errorf("stored %d, inputs rejected %d (%s); want 1, 1, zlocked: permission denied", rep.Stored, rep.InputsRejected, rejected(rep))
	}
}

// failDirFS fails to list one directory, as an unreadable one does (the
// tests may run as root, who reads any directory).
type failDirFS struct {
	fstest.MapFS
	bad string
}

func (f failDirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadDir(name)
}

func TestWalkErrorIsRejectedAlone(t *testing.T) {
	one := []byte(`{"Records":[` + record("w1", "iam.amazonaws.com", "CreateUser", "IAMUser", t0) + `]}`)
	fsys := failDirFS{MapFS: fstest.MapFS{
		"a/one.json":      {Data: one},
		"b/locked/x.json": {Data: one},
		"c/two.json":      {Data: []byte(strings.ReplaceAll(string(one), "w1", "w2"))},
	}, bad: "b/locked"}
	inputs, err := pipeline.FromFS(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(openStore(t), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Read(context.Background(), inputs, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 2 || rep.InputsRejected != 1 || !strings.Contains(rejected(rep), "b/locked: permission denied") {
		t.Errorf("stored %d, inputs rejected %d (%s); want 2, 1, b/locked: permission denied", rep.Stored, rep.InputsRejected, rejected(rep))
	}
}

// A FIFO named on the command line never hangs the scan: with no writer it
// reads as empty; with a writer that never writes, cancelling the context
// ends the read.
func TestFIFOPathDoesNotHang(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "a.json", `{"Records":[`+record("f1", "iam.amazonaws.com", "CreateUser", "IAMUser", t0)+`]}`)
	fifo := filepath.Join(dir, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := within(t, 20*time.Second, func() (pipeline.Report, error) {
		return readAll(t, context.Background(), []string{fifo, good}, nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 1 || rep.Inputs != 2 || rep.InputsRejected != 0 {
		t.Errorf("stored %d, read %d, rejected %d (%s); want 1, 2 (the FIFO as an empty input), 0", rep.Stored, rep.Inputs, rep.InputsRejected, rejected(rep))
	}

	// A writer holds the FIFO open and writes nothing.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0) // RDWR: opens without waiting for a reader
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	rep, err = within(t, 20*time.Second, func() (pipeline.Report, error) {
		return readAll(t, ctx, []string{fifo, good}, nil)
	})
	if !errors.Is(err, context.Canceled) || !rep.Interrupted {
		t.Errorf("read of a silent FIFO: err %v, interrupted %v; want context.Canceled", err, rep.Interrupted)
	}
}

// `sleep 30 | iamwatch scan -`: a silent stdin does not hold off Ctrl-C.
func TestSilentStdinIsCancelled(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	rep, err := within(t, 20*time.Second, func() (pipeline.Report, error) {
		return readAll(t, ctx, []string{"-"}, pr)
	})
	if !errors.Is(err, context.Canceled) || !rep.Interrupted {
		t.Errorf("read of a silent stdin: err %v, interrupted %v; want context.Canceled", err, rep.Interrupted)
	}
}

// within runs f and fails the test if it has not returned after d (a hang,
// not a performance target: f takes milliseconds when it works).
func within(t *testing.T, d time.Duration, f func() (pipeline.Report, error)) (pipeline.Report, error) {
	t.Helper()
	type result struct {
		rep pipeline.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := f()
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-time.After(d):
		t.Fatalf("still running after %v: a hang", d)
		return pipeline.Report{}, nil
	}
}

// A record whose eventID another, different record already has: the first
// record stays for the store and for detection alike, and the conflict is
// counted and named (review F11: the alert was about the second record,
// the store kept the first). The same event repeated is a plain duplicate.
func TestConflictingEventIDKeepsTheFirstRecord(t *testing.T) {
	benign := record("dup-X", "iam.amazonaws.com", "GetUser", "IAMUser", t0)
	hostile := strings.Replace(record("dup-X", "signin.amazonaws.com", "ConsoleLogin", "IAMUser", t0.Add(time.Minute)), `"userName":"alice"`, `"userName":"mallory"`, 1)
	other := record("e2", "signin.amazonaws.com", "ConsoleLogin", "IAMUser", t0)
	for _, tt := range []struct {
		name       string
		files      [][]string // read one after the other
		wantAlerts []string   // event IDs alerted
		conflicts  int
		storedName string // of dup-X
	}{
		{"benign stored, then hostile", [][]string{{benign}, {hostile, other}}, []string{"e2"}, 1, "GetUser"},
		{"both in one batch", [][]string{{benign, hostile, other}}, []string{"e2"}, 1, "GetUser"},
		{"hostile first", [][]string{{hostile}, {benign}}, []string{"dup-X"}, 0, "ConsoleLogin"},
		{"the same event twice", [][]string{{hostile}, {hostile}}, []string{"dup-X"}, 0, "ConsoleLogin"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			var alerted []string
			p, err := pipeline.New(st, pipeline.Options{
				Detector: detecttest.Names(t, "test", "ConsoleLogin"),
				OnNew:    func(a iamwatch.Alert) { alerted = append(alerted, a.EventIDs...) },
			})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var conflicts int
			var first string
			for i, recs := range tt.files {
				path := writeFile(t, dir, fmt.Sprintf("f%d.jsonl", i), strings.Join(recs, "\n")+"\n")
				inputs, err := pipeline.Expand([]string{path}, nil)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := p.Read(context.Background(), inputs, pipeline.ReadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				conflicts += rep.Conflicts
				if first == "" {
					first = rep.FirstConflict
				}
			}
			if got := strings.Join(alerted, ","); got != strings.Join(tt.wantAlerts, ",") {
				t.Errorf("alerts for %s, want %s", got, strings.Join(tt.wantAlerts, ","))
			}
			if conflicts != tt.conflicts || (conflicts > 0 && !strings.Contains(first, `"dup-X"`)) {
				t.Errorf("conflicts %d (%q), want %d naming dup-X", conflicts, first, tt.conflicts)
			}
			ev, err := st.Event(context.Background(), "dup-X")
			if err != nil || ev.Name != tt.storedName {
				t.Errorf("stored dup-X is %s (%v), want %s", ev.Name, err, tt.storedName)
			}
		})
	}
}
