package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// genRecord is what the tests read of a generated record.
type genRecord struct {
	EventID, SourceIPAddress, ErrorCode string
	UserIdentity                        struct{ Type, UserName string }
}

// generated runs gentrail with args into a new directory and returns its
// files' records by path (relative, with slashes).
func generated(t *testing.T, args ...string) map[string][]genRecord {
	t.Helper()
	out := t.TempDir()
	var stderr bytes.Buffer
	if code := run(context.Background(), append(args, "-out", out), &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	files := map[string][]genRecord{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return err
		}
		var f struct{ Records []genRecord }
		if err := json.NewDecoder(zr).Decode(&f); err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = f.Records
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%s records", args[slices.Index(args, "-records")+1]); !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q: %s", want, stderr.String())
	}
	return files
}

func TestGenerate(t *testing.T) {
	layout := regexp.MustCompile(`^AWSLogs/(o-exampleorgid/)?\d{12}/CloudTrail/[a-z]{2}-[a-z]+-\d/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail_[a-z]{2}-[a-z]+-\d_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)
	records := 0
	ids := map[string]bool{}
	files := generated(t, "-records", "3000")
	for rel, recs := range files {
		if !layout.MatchString(rel) {
			t.Errorf("%s: not in the S3 key layout", rel)
		}
		for _, r := range recs {
			ids[r.EventID] = true
		}
		records += len(recs)
	}
	if len(ids) < 2990 || len(ids) > 3000 || records < len(ids) {
		t.Errorf("%d records, %d distinct, in %d files; want 3000 distinct (a few repeated)", records, len(ids), len(files))
	}
}

// TestGenerateProbed: the probed profile writes one file a region a day,
// every record an IAM user's distinct call, about four in five denied.
func TestGenerateProbed(t *testing.T) {
	files := generated(t, "-profile", "probed", "-records", "6000", "-days", "2", "-addresses", "50")
	denied := 0
	ids, ips, users := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, recs := range files {
		for _, r := range recs {
			ids[r.EventID] = true
			ips[r.SourceIPAddress] = true
			users[r.UserIdentity.Type+"/"+r.UserIdentity.UserName] = true
			if r.ErrorCode != "" {
				denied++
			}
		}
	}
	// Two days, three regions; a day's file of a region may be cut at the
	// delivery window's edge.
	if len(files) < 6 || len(files) > 9 {
		t.Errorf("%d files; want one a region a day (6, a few more where a window splits)", len(files))
	}
	if len(ids) != 6000 || len(users) != 3 || len(ips) < 40 || len(ips) > 50 {
		t.Errorf("%d distinct IDs, users %v, %d addresses; want 6000, three IAM users, about 50", len(ids), users, len(ips))
	}
	for u := range users {
		if !strings.HasPrefix(u, "IAMUser/") {
			t.Errorf("caller %s; want IAM users only", u)
		}
	}
	// Reads are denied at 0.8, writes (4 of the 20 calls) always: 0.84.
	if share := float64(denied) / 6000; share < 0.80 || share > 0.88 {
		t.Errorf("%.3f of the calls denied; want about 0.84", share)
	}
}
