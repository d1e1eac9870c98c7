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

// TestOverlappingArguments: arguments that name the same files (a
// directory and one below it, in either order, a file and its directory,
// one directory spelled two ways, a dangling entry below a directory
// named before) list each file once, in the first argument that names it,
// whether walked or expanded.
func TestOverlappingArguments(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a/b/1.json", "a/b/c/2.json", "a/3.json", "a/bb/4.json", "d/5.json"} {
		writeFile(t, dir, name, name)
	}
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "a", "b", "dangling.json")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	j := func(p string) string { return filepath.Join(dir, filepath.FromSlash(p)) }
	for _, c := range []struct {
		args, want []string
	}{
		{[]string{j("a/b"), j("a")}, []string{j("a/b/1.json"), j("a/b/c/2.json"), j("a/b/dangling.json"), j("a/3.json"), j("a/bb/4.json")}},
		{[]string{j("a"), j("a/b")}, []string{j("a/3.json"), j("a/b/1.json"), j("a/b/c/2.json"), j("a/b/dangling.json"), j("a/bb/4.json")}},
		{[]string{j("a/b/c/2.json"), "a/b/", j("d"), "a/b/c"}, []string{j("a/b/c/2.json"), "a/b/1.json", "a/b/dangling.json", j("d/5.json")}},
		{[]string{"d", j("d"), "./d/5.json", "."}, []string{"d/5.json", "a/3.json", "a/b/1.json", "a/b/c/2.json", "a/b/dangling.json", "a/bb/4.json"}},
	} {
		expanded, err := pipeline.ExpandList(c.args, nil)
		if err != nil {
			t.Fatal(err)
		}
		walked, err := pipeline.WalkList(t.Context(), c.args, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := walked.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, l := range []*pipeline.List{expanded, walked} {
			var names []string
			for _, in := range l.Inputs() {
				names = append(names, in.Name)
			}
			if !reflect.DeepEqual(names, c.want) {
				t.Errorf("%q: listed %q\nwant %q", c.args, names, c.want)
			}
		}
	}
}
