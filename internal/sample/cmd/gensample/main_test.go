package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/iamwatch/iamwatch/internal/sample"
)

func TestRun(t *testing.T) {
	out := t.TempDir()
	stale := filepath.Join(out, sample.DataDir, "stale.json")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-out", out}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a file of an earlier run survived: %v", err)
	}
	files, err := sample.Build(sample.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Path)))
		if err != nil || !bytes.Equal(b, f.Data) {
			t.Fatalf("%s: not written as built (%v)", f.Path, err)
		}
	}
	if code := run([]string{"-bogus"}, &stderr); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}
