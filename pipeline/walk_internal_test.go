package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
)

// walked is what a walk listed: a file's name and size, or the error an
// entry's input fails with.
type walked struct {
	name string
	size int64
	err  string
}

// walkedBy lists root with walkDir, stopping after limit entries (0: never).
func walkedBy(root string, limit int) []walked {
	var got []walked
	stop := func() bool { return limit > 0 && len(got) >= limit }
	walkDir(root, func(dir string, base []byte, size int64) {
		got = append(got, walked{name: dir + string(base), size: size})
	}, func(in Input) {
		_, err := in.Open()
		got = append(got, walked{name: in.Name, size: in.Size, err: err.Error()})
	}, stop)
	return got
}

// walkedByFS lists root as walk lists os.DirFS(root).
func walkedByFS(root string) []walked {
	var got []walked
	walk(os.DirFS(root), ".", func(name string) string { return filepath.Join(root, filepath.FromSlash(name)) },
		func(_, shown string, size int64) { got = append(got, walked{name: shown, size: size}) },
		func(in Input) {
			_, err := in.Open()
			got = append(got, walked{name: in.Name, size: in.Size, err: err.Error()})
		}, nil)
	return got
}

// TestWalkDirAsWalk: walkDir lists a tree of every kind of entry as the
// generic walk of os.DirFS does, entry for entry, whatever the root's
// spelling: symlinks to files read as the file, symlinks to directories,
// FIFOs, dangling and looping symlinks skipped or failed, hidden entries
// left out, an unreadable subdirectory failed alone, names that sort
// before "/" in their directory's order.
func TestWalkDirAsWalk(t *testing.T) {
	dir := t.TempDir()
	mk := func(name, content string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, name := range []string{"a/x/1.json", "a/0.json", "a-b.json", "a/.dot.json", ".hidden/h.json",
		"b/2.json", "b/3.json.gz", "c/d/e/f/deep.json", "zlocked/z.json", "é.json"} {
		mk(name, fmt.Sprint(name, i))
	}
	for _, d := range []string{"empty", "c/.git"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"b/link.json": "../a/0.json", "b/link-to-dir": "../c", "b/dangling.json": "missing",
		"b/loop.json": "loop.json", "b/.hidden-link": "../a/0.json",
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "b", "fifo.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "zlocked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(locked, 0o755) })

	want := walkedByFS(dir)
	if len(want) < 12 {
		t.Fatalf("the generic walk listed %d entries: %v", len(want), want)
	}
	if got := walkedBy(dir, 0); !reflect.DeepEqual(got, want) {
		t.Errorf("walkDir listed\n%+v\nwant\n%+v", got, want)
	}
	if got := walkedBy(dir, 5); !reflect.DeepEqual(got, want[:5]) {
		t.Errorf("walkDir stopped after 5 entries listed\n%+v\nwant\n%+v", got, want[:5])
	}
	t.Chdir(filepath.Join(dir, "b"))
	for _, root := range []string{".", "./", "../b", "../b/", "../a/../b", dir + "//b/", "../zlocked"} {
		if got, want := walkedBy(root, 0), walkedByFS(root); !reflect.DeepEqual(got, want) {
			t.Errorf("walkDir(%q) listed\n%+v\nwant\n%+v", root, got, want)
		}
	}
}

// BenchmarkWalk lists a trail-shaped tree (S3 layout, 4,800 files):
// walkDir, and the generic walk it stands in for.
func BenchmarkWalk(b *testing.B) {
	root := b.TempDir()
	for _, acct := range []string{"111122223333", "444455556666"} {
		for _, region := range []string{"us-east-1", "us-east-2", "eu-west-1", "ap-south-1"} {
			for day := 1; day <= 30; day++ {
				dir := filepath.Join(root, "AWSLogs", acct, "CloudTrail", region, "2025", "03", fmt.Sprintf("%02d", day))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					b.Fatal(err)
				}
				for f := range 20 {
					name := fmt.Sprintf("%s_CloudTrail_%s_202503%02dT%02d%02dZ_abcdefgh%08d.json.gz", acct, region, day, f/4, f*5, f)
					if err := os.WriteFile(filepath.Join(dir, name), []byte("{}"), 0o644); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		walk func(root string, file func(dir string, base []byte, size int64))
	}{
		{"walkDir", func(root string, file func(string, []byte, int64)) { walkDir(root, file, func(Input) {}, nil) }},
		{"DirFS", func(root string, file func(string, []byte, int64)) {
			walk(os.DirFS(root), ".", func(name string) string { return filepath.Join(root, filepath.FromSlash(name)) },
				func(_, shown string, size int64) {
					dir, base := filepath.Split(shown)
					file(dir, []byte(base), size)
				}, func(Input) {}, nil)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var l List
				c.walk(root, l.addFile)
				if l.Len() != 4800 {
					b.Fatalf("listed %d files", l.Len())
				}
			}
		})
	}
}
