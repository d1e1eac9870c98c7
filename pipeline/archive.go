package pipeline

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"

	"github.com/iamwatch/iamwatch/cloudtrail"
)

// An archive (zip, tar, or a gzipped tar: how CloudTrail datasets and
// incident exports are handed around) is read member by member, each
// member an input of its own named "ARCHIVE!/MEMBER": its records are
// decoded in every shape a file may have (a gzipped trail file in a tar
// included), and what becomes of it is counted like a file's. The
// decoder recognises the archive by content (cloudtrail.ErrArchive); the
// input is then opened again. Members that are not regular files, and
// hidden ones (a dot-name, or macOS's __MACOSX resource forks in zips),
// are passed over the way a directory walk passes over them. An archive
// inside an archive is rejected by name: one level is read.

// archiveSep joins an archive's name and a member's.
const archiveSep = "!/"

// maxArchiveSpool bounds what a gzipped zip may inflate to on disk: zip's
// directory is at its end, so such a zip is first copied to a temporary
// file. (Archives come from files only: read re-opens the input.)
const maxArchiveSpool = 4 << 30

// readArchive reads the members of the archive in.
func (r *reader) readArchive(ctx context.Context, in Input, reject func(Rejection), outcome outcomeFunc) error {
	rc, err := in.Open()
	if err != nil {
		return outcome(ctx, in.Name, cloudtrail.Stats{}, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var src io.Reader = br
	gzipped := false
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return outcome(ctx, in.Name, cloudtrail.Stats{}, fmt.Errorf("gzip: %w", err))
		}
		defer gz.Close()
		br = bufio.NewReaderSize(gz, 64<<10)
		src, gzipped = br, true
	}
	if magic, _ := br.Peek(4); string(magic) == "PK\x03\x04" {
		var f *os.File
		if reg, ok := rc.(regularFile); ok && !gzipped {
			f = reg.File
		}
		return r.readZip(ctx, in.Name, f, src, reject, outcome)
	}
	return r.readTar(ctx, in.Name, src, reject, outcome)
}

// readTar reads a tar stream's members.
func (r *reader) readTar(ctx context.Context, name string, src io.Reader, reject func(Rejection), outcome outcomeFunc) error {
	tr := tar.NewReader(src)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// The rest of the archive cannot be found: the archive is
			// rejected, after the members read so far.
			return outcome(ctx, name, cloudtrail.Stats{}, fmt.Errorf("tar: %w", err))
		}
		if h.Typeflag != tar.TypeReg || skippedMember(h.Name) {
			continue
		}
		if err := r.readMember(ctx, memberName(name, h.Name), tr, reject, outcome); err != nil {
			return err
		}
	}
}

// readZip reads a zip's members: from f, the archive's own file, when it
// has one, or else from a temporary copy of src.
func (r *reader) readZip(ctx context.Context, name string, f *os.File, src io.Reader, reject func(Rejection), outcome outcomeFunc) error {
	if f == nil {
		tmp, err := os.CreateTemp("", "iamwatch-zip-*")
		if err != nil {
			return outcome(ctx, name, cloudtrail.Stats{}, fmt.Errorf("zip: %w", err))
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		n, err := io.Copy(tmp, io.LimitReader(src, maxArchiveSpool+1))
		if err == nil && n > maxArchiveSpool {
			err = fmt.Errorf("%w: a zip read from a stream is limited to %d bytes; give it as a file", cloudtrail.ErrTooLarge, int64(maxArchiveSpool))
		}
		if err != nil {
			return outcome(ctx, name, cloudtrail.Stats{}, fmt.Errorf("zip: %w", err))
		}
		f = tmp
	}
	fi, err := f.Stat()
	if err != nil {
		return outcome(ctx, name, cloudtrail.Stats{}, fmt.Errorf("zip: %w", err))
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		return outcome(ctx, name, cloudtrail.Stats{}, fmt.Errorf("zip: %w", err))
	}
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !zf.Mode().IsRegular() || skippedMember(zf.Name) {
			continue
		}
		member := memberName(name, zf.Name)
		mr, err := zf.Open()
		if err != nil {
			if err := outcome(ctx, member, cloudtrail.Stats{}, fmt.Errorf("zip: %w", err)); err != nil {
				return err
			}
			continue
		}
		err = r.readMember(ctx, member, mr, reject, outcome)
		mr.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// readMember decodes one member, named name, of an archive.
func (r *reader) readMember(ctx context.Context, name string, mr io.Reader, reject func(Rejection), outcome outcomeFunc) error {
	st, err := r.decode(ctx, mr, name, reject)
	if errors.Is(err, cloudtrail.ErrArchive) {
		err = &cloudtrail.InputError{Name: name, Err: fmt.Errorf("%w inside an archive: extract it to read it", cloudtrail.ErrArchive)}
	}
	return outcome(ctx, name, st, err)
}

// memberName is the name an archive's member is reported by.
func memberName(archive, member string) string {
	return archive + archiveSep + strings.TrimPrefix(member, "./")
}

// skippedMember reports whether an archive member is passed over: hidden
// (a name starting with a dot), or in macOS's __MACOSX folder of resource
// forks.
func skippedMember(name string) bool {
	name = strings.TrimPrefix(name, "./")
	if strings.HasPrefix(name, "__MACOSX/") {
		return true
	}
	for part := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(part, ".") && part != "." && part != ".." {
			return true
		}
	}
	return false
}
