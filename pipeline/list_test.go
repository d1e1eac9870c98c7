package pipeline_test

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/iamwatch/iamwatch/pipeline"
)

// TestExpandListOrderAndNames: the compact list gives the inputs Expand
// always gave: sorted by path (a name that sorts before "/" too), hidden
// entries left out, a file named twice listed once, bad entries kept to be
// reported, and each input opens its file.
func TestExpandListOrderAndNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b/2.json", "a/x/1.json", "a-b.json", "a/0.json", ".hidden/3.json", "a/.dot.json"} {
		writeFile(t, dir, name, name)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "b", "dangling.json")); err != nil {
		t.Fatal(err)
	}
	l, err := pipeline.ExpandList([]string{dir, filepath.Join(dir, "b", "2.json")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range l.Len() {
		names = append(names, l.At(i).Name)
	}
	want := []string{"a-b.json", "a/0.json", "a/x/1.json", "b/2.json", "b/dangling.json"}
	for i := range want {
		want[i] = filepath.Join(dir, filepath.FromSlash(want[i]))
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("names %q\nwant %q", names, want)
	}
	if got := l.Bytes(); got != int64(len("a-b.json")+len("a/0.json")+len("a/x/1.json")+len("b/2.json")) {
		t.Errorf("bytes %d", got)
	}
	in := l.At(2)
	rc, err := in.Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "a/x/1.json" || in.Size != int64(len(b)) {
		t.Errorf("input 2 reads %q, size %d", b, in.Size)
	}
	if _, err := l.At(4).Open(); err == nil {
		t.Error("the dangling symlink opened")
	}
	slice, err := pipeline.Expand([]string{dir, filepath.Join(dir, "b", "2.json")}, nil)
	if err != nil || len(slice) != len(want) {
		t.Fatalf("Expand: %d inputs, %v", len(slice), err)
	}
}

// TestListNamesRoundTrip: a file's name comes back as it was given.
func TestListNamesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "x.json", "{}")
	t.Chdir(dir)
	for _, arg := range []string{"x.json", "./x.json", filepath.Join(dir, "x.json")} {
		l, err := pipeline.ExpandList([]string{arg}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if l.Len() != 1 || l.At(0).Name != arg {
			t.Errorf("%q: listed as %q", arg, l.At(0).Name)
		}
	}
}
