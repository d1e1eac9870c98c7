package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRunFlags(t *testing.T) {
	for _, args := range [][]string{
		{}, // no -out
		{"-out", t.TempDir(), "-records", "0"},
		{"-nosuchflag"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), args, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2; stderr %s", args, code, stderr.String())
		}
	}
}

func TestGenerate(t *testing.T) {
	out := t.TempDir()
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-records", "3000", "-out", out}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	layout := regexp.MustCompile(`^AWSLogs/(o-exampleorgid/)?\d{12}/CloudTrail/[a-z]{2}-[a-z]+-\d/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail_[a-z]{2}-[a-z]+-\d_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)
	records, files := 0, 0
	ids := map[string]bool{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		if !layout.MatchString(filepath.ToSlash(rel)) {
			t.Errorf("%s: not in the S3 key layout", rel)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return err
		}
		var f struct{ Records []struct{ EventID string } }
		if err := json.NewDecoder(zr).Decode(&f); err != nil {
			return err
		}
		for _, r := range f.Records {
			ids[r.EventID] = true
		}
		records += len(f.Records)
		files++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) < 2990 || len(ids) > 3000 || records < len(ids) {
		t.Errorf("%d records, %d distinct, in %d files; want 3000 distinct (a few repeated)", records, len(ids), files)
	}
	if !strings.Contains(stderr.String(), "3000 records") {
		t.Errorf("stderr: %s", stderr.String())
	}
}
