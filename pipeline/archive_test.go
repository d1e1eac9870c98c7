package pipeline_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// member is a file of an archive, by its name inside it.
type member struct{ name, content string }

// archiveMembers is what a dataset's archive holds: a gzipped trail file,
// JSON lines, a digest file, a README, and what a Mac adds to a zip.
func archiveMembers(t *testing.T) []member {
	var lines []string
	for i := range 5 {
		lines = append(lines, record(fmt.Sprintf("line-%d", i), "sts.amazonaws.com", "GetCallerIdentity", "IAMUser", t0.Add(time.Duration(i)*time.Minute)))
	}
	return []member{
		{"AWSLogs/111122223333/CloudTrail/us-east-1/2026/03/02/111122223333_CloudTrail_us-east-1_20260302T1000Z_a.json.gz", string(gzipRecords(t, "trail", 40))},
		{"exports/lookup.jsonl", strings.Join(lines, "\n") + "\n"},
		{"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/02/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260302T1000Z.json.gz", `{"awsAccountId":"111122223333","digestStartTime":"2026-03-02T09:00:00Z"}`},
		{"README.md", "# Our incident's CloudTrail\n"},
		{".DS_Store", "\x00\x00\x00\x01Bud1"},
		{"__MACOSX/exports/._lookup.jsonl", "\x00\x05\x16\x07AppleDouble"},
	}
}

func tarOf(t *testing.T, ms []member) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, m := range append([]member{{"./", ""}}, ms...) {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.content)), Typeflag: tar.TypeReg, ModTime: t0}
		if strings.HasSuffix(m.name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(m.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "latest", Linkname: "exports/lookup.jsonl", Typeflag: tar.TypeSymlink, ModTime: t0}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipOf(t *testing.T, ms []member) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	if _, err := zw.Create("exports/"); err != nil { // a directory entry
		t.Fatal(err)
	}
	for _, m := range ms {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(m.content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipOf(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestArchivesReadLikeTheirFiles: a zip, a tar, a gzipped tar and a
// gzipped zip of a dataset give what its files give read from a
// directory: the same records stored, the same files read, skipped and
// rejected, each named inside its archive; hidden members, directories and
// links are passed over.
func TestArchivesReadLikeTheirFiles(t *testing.T) {
	ms := archiveMembers(t)
	dir := t.TempDir()
	for _, m := range ms {
		if strings.HasPrefix(m.name, ".") || strings.HasPrefix(m.name, "__MACOSX/") {
			continue // a directory walk skips hidden entries; the archives hold them to be passed over
		}
		writeFile(t, dir, m.name, m.content)
	}
	want, err := readAll(t, context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want.Inputs != 2 || want.InputsSkipped != 1 || want.InputsRejected != 1 || want.Stored != 45 {
		t.Fatalf("the directory: read %d, skipped %d, rejected %d, stored %d; want 2, 1, 1, 45", want.Inputs, want.InputsSkipped, want.InputsRejected, want.Stored)
	}
	archives := map[string][]byte{
		"dataset.zip":    zipOf(t, ms),
		"dataset.tar":    tarOf(t, ms),
		"dataset.tar.gz": gzipOf(t, tarOf(t, ms)),
		"dataset.zip.gz": gzipOf(t, zipOf(t, ms)),
	}
	for name, b := range archives {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), name, string(b))
			got, err := readAll(t, context.Background(), []string{path}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Inputs != want.Inputs || got.InputsSkipped != want.InputsSkipped || got.InputsRejected != want.InputsRejected ||
				got.Records != want.Records || got.Stored != want.Stored {
				t.Errorf("read %d, skipped %d, rejected %d, records %d, stored %d; the directory gave %d, %d, %d, %d, %d",
					got.Inputs, got.InputsSkipped, got.InputsRejected, got.Records, got.Stored,
					want.Inputs, want.InputsSkipped, want.InputsRejected, want.Records, want.Stored)
			}
			if r := rejected(got); !strings.Contains(r, path+"!/README.md") || !strings.Contains(r, "unknown shape") {
				t.Errorf("rejections %q should name the README inside the archive", r)
			}
			if s := skipped(got); !strings.Contains(s, path+"!/AWSLogs/111122223333/CloudTrail-Digest/") || !strings.Contains(s, "digest") {
				t.Errorf("skipped %q should name the digest file inside the archive", s)
			}
		})
	}
}

// TestArchiveDamage: a gzipped tar cut short keeps the members before the
// cut and rejects the archive by name; an archive inside an archive is
// rejected by its name inside, and the rest is read; an archive piped on
// standard input is rejected with what to do instead.
func TestArchiveDamage(t *testing.T) {
	ms := archiveMembers(t)
	t.Run("cut", func(t *testing.T) {
		var big []member
		for i := range 30 {
			big = append(big, member{fmt.Sprintf("part-%02d.json.gz", i), string(gzipRecords(t, fmt.Sprintf("p%02d", i), 50))})
		}
		z := gzipOf(t, tarOf(t, big))
		path := writeFile(t, t.TempDir(), "cut.tgz", string(z[:len(z)*2/3]))
		rep, err := readAll(t, context.Background(), []string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Stored == 0 || rep.Stored >= 30*50 || rep.Stored != rep.Records || rep.Inputs == 0 {
			t.Errorf("stored %d of %d records from %d members; want those before the cut, all of them stored", rep.Stored, rep.Records, rep.Inputs)
		}
		if r := rejected(rep); rep.InputsRejected == 0 || !strings.Contains(r, "cut.tgz") {
			t.Errorf("rejected %d: %q; want the cut archive named", rep.InputsRejected, r)
		}
	})
	t.Run("nested", func(t *testing.T) {
		outer := append([]member{{"inner.zip", string(zipOf(t, ms))}}, ms...)
		path := writeFile(t, t.TempDir(), "outer.tar", string(tarOf(t, outer)))
		rep, err := readAll(t, context.Background(), []string{path}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Stored != 45 || rep.InputsRejected != 2 {
			t.Errorf("stored %d, rejected %d; want the outer archive's 45 records, its README and the inner archive rejected", rep.Stored, rep.InputsRejected)
		}
		if r := rejected(rep); !strings.Contains(r, path+"!/inner.zip: archive inside an archive") {
			t.Errorf("rejections %q should name the inner archive", r)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		rep, err := readAll(t, context.Background(), []string{"-"}, bytes.NewReader(gzipOf(t, tarOf(t, ms))))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Stored != 0 || rep.InputsRejected != 1 || !strings.Contains(rejected(rep), "give it as a file") {
			t.Errorf("stored %d, rejected %d: %q; want the piped archive rejected with what to do", rep.Stored, rep.InputsRejected, rejected(rep))
		}
	})
}

// TestArchiveIsFoundByContent: the name does not matter, a trail file
// named .zip is read as the trail file it is, and an archive named .json
// as the archive it is.
func TestArchiveIsFoundByContent(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trail.zip"), gzipRecords(t, "named-zip", 7), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dataset.json"), zipOf(t, archiveMembers(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := readAll(t, context.Background(), []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 7+45 || rep.Inputs != 1+2 {
		t.Errorf("stored %d from %d inputs; want 52 from 3", rep.Stored, rep.Inputs)
	}
}
