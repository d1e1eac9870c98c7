//go:build linux

package pipeline

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWalkSizesSomeFiles: the walk sizes the first sizeFirst regular
// files and one in sizeEvery of the others, and leaves the size of the
// rest unknown (-1); the list counts each of those as the mean of the
// files sized after the first sizeFirst, in Bytes and in Size, and the
// read gets every file whole.
func TestWalkSizesSomeFiles(t *testing.T) {
	defer func(n, m int) { sizeFirst, sizeEvery = n, m }(sizeFirst, sizeEvery)
	sizeFirst, sizeEvery = 1, 2
	dir := t.TempDir()
	contents := []string{"a", "bbb", "cc", "dddd", "eeeee"} // sized: the first, a (1); of the others the 2nd, bbb (3), and the 4th, dddd (4): mean 3
	for i, c := range contents {
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".json"), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var sizes []int64
	walkDir(dir, func(_ string, _ []byte, size int64) { sizes = append(sizes, size) }, func(in Input) { t.Errorf("other input %q", in.Name) }, nil)
	if want := []int64{1, 3, -1, 4, -1}; !slices.Equal(sizes, want) {
		t.Fatalf("sizes %v, want %v", sizes, want)
	}

	l, err := WalkList(context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Bytes(), int64(1+3+4+2*3); got != want {
		t.Errorf("Bytes %d, want %d (the sized files, and the sample's mean for each other)", got, want)
	}
	var read []string
	for i := range l.Len() {
		in := l.At(i)
		if got, want := l.Size(in), []int64{1, 3, 3, 4, 3}[i]; got != want {
			t.Errorf("%s: Size %d, want %d", in.Name, got, want)
		}
		rc, err := in.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, string(b))
	}
	if !slices.Equal(read, contents) {
		t.Errorf("read %q, want %q", read, contents)
	}
}
