package export_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/export"
	"github.com/iamwatch/iamwatch/store/dynamodb"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// The stores' export sources, which do not import this package.
var (
	_ export.EventSource = (*sqlite.Store)(nil)
	_ export.AlertSource = (*sqlite.Store)(nil)
	_ export.EventSource = dynamodb.ExportSource{}
	_ export.EventSource = dynamodb.ExportAlertsSource{}
	_ export.AlertSource = dynamodb.ExportAlertsSource{}
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixtureEvents are our own events: several days (month and day numbers
// that would have leading zeros), a day edge, regions including an empty
// and a hostile one, absent and present JSON, untrusted text.
func fixtureEvents() []iamwatch.Event {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	mk := func(i int, ts, region, name string) iamwatch.Event {
		e := iamwatch.Event{
			ID: fmt.Sprintf("ev-%03d", i), Time: at(ts), Source: "iam.amazonaws.com", Name: name,
			Type: iamwatch.TypeIAM, Category: "AwsApiCall",
			UserName: "alice", IdentityType: "IAMUser", PrincipalARN: "arn:aws:iam::111122223333:user/alice",
			AccountID: "111122223333", Region: region, SourceIP: "192.0.2.10",
			UserAgent: "aws-cli/2.15 \x1b[31mred\x1b[0m «unicode»",
			MFAUsed:   "no", ReadOnly: "false",
		}
		if i%2 == 0 {
			e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"userName":"bob%d","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, i))
		}
		if i%3 == 0 {
			e.ResponseElements = json.RawMessage(`{"user":{"userName":"bob"}}`)
			e.ErrorCode, e.ErrorMessage = "AccessDenied", "User: alice is not authorized"
		}
		e.Raw = json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s","eventName":"%s"}`, e.ID, name))
		return e
	}
	evs := []iamwatch.Event{
		mk(1, "2024-01-05T00:00:00Z", "us-east-1", "CreateUser"),
		mk(2, "2024-01-05T10:11:12Z", "eu-west-1", "AttachUserPolicy"),
		mk(3, "2024-01-05T23:59:59Z", "us-east-1", "CreateAccessKey"),
		mk(4, "2024-01-06T00:00:00Z", "", "DeleteUser"),
		mk(5, "2024-02-01T08:00:00Z", "../../evil", "PutUserPolicy"),
		mk(6, "2024-12-31T23:00:00Z", "ap-southeast-2", "CreateRole"),
		mk(7, "2024-12-31T23:30:00Z", "ap-southeast-2", "UpdateAssumeRolePolicy"),
	}
	evs[3].Type, evs[3].Source, evs[3].IdentityType, evs[3].UserName = iamwatch.TypeSignin, "signin.amazonaws.com", "Root", "root"
	evs[3].MFAUsed, evs[3].ReadOnly = "", ""
	evs[6].InvokedBy, evs[6].TargetRole = "cloudformation.amazonaws.com", "arn:aws:iam::111122223333:role/x"
	return evs
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type harness struct {
	st    *sqlite.Store
	src   *sqlite.Store
	clock *clock
}

func newHarness(t testing.TB, evs []iamwatch.Event) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.PutEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return &harness{st: st, src: st, clock: &clock{t: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}}
}

func (h *harness) run(t testing.TB, dst export.Destination, opt export.Options) export.Report {
	t.Helper()
	opt.Now = h.clock.now
	if opt.TempDir == "" {
		opt.TempDir = t.TempDir()
	}
	rep, err := export.Run(context.Background(), h.src, dst, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (-update rewrites it):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func list(t testing.TB, dst export.Destination) []string {
	t.Helper()
	keys, err := dst.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  export.Options
	}{
		{"layout.golden", export.Options{}},
		{"layout_by_region.golden", export.Options{ByRegion: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fixtureEvents())
			dst, err := export.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			rep := h.run(t, dst, tc.opt)
			if rep.Days != 4 || rep.Written != 4 || rep.Events != 7 {
				t.Errorf("report: %d days, %d written, %d events; want 4, 4, 7", rep.Days, rep.Written, rep.Events)
			}
			golden(t, tc.name, strings.Join(list(t, dst), "\n")+"\n")
		})
	}
}

// TestReadBack reads every file back with parquet-go and compares each
// column of each row with the stored event.
func TestReadBack(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) {
			h := newHarness(t, fixtureEvents())
			dir := t.TempDir()
			dst, err := export.NewDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			h.run(t, dst, export.Options{ByRegion: true, Raw: raw})
			stored, err := h.st.Events(context.Background(), sqlite.EventFilter{Raw: true})
			if err != nil {
				t.Fatal(err)
			}
			byID := map[string]iamwatch.Event{}
			for _, e := range stored {
				byID[e.ID] = e
			}
			seen := 0
			for _, k := range list(t, dst) {
				if !strings.HasSuffix(k, ".parquet") {
					continue
				}
				p := filepath.Join(dir, filepath.FromSlash(k))
				checkSchema(t, p)
				rows, err := parquet.ReadFile[export.Row](p)
				if err != nil {
					t.Fatalf("%s: %v", k, err)
				}
				for _, r := range rows {
					e, ok := byID[r.EventID]
					if !ok {
						t.Fatalf("%s: unknown event %s", k, r.EventID)
					}
					seen++
					want := columnValues(export.RowOf(&e, raw))
					got := columnValues(r)
					for i, col := range export.RowColumns {
						if !reflect.DeepEqual(got[i], want[i]) {
							t.Errorf("%s: event %s column %s = %v, want %v", k, e.ID, col, got[i], want[i])
						}
					}
					// And the other way: the row decodes to the stored event.
					back, err := r.Event()
					if err != nil {
						t.Fatal(err)
					}
					if !raw {
						e.Raw = nil
					}
					if !reflect.DeepEqual(back, e) {
						t.Errorf("%s: event %s decodes to\n%+v\nwant\n%+v", k, e.ID, back, e)
					}
					if wantKey := "region=" + regionOf(e.Region) + "/"; !strings.Contains(k, wantKey) || !strings.Contains(k, dayPath(e.Time)) {
						t.Errorf("event %s (%s, %s) is in %s", e.ID, e.Time, e.Region, k)
					}
				}
			}
			if seen != len(stored) {
				t.Errorf("read back %d events, want %d", seen, len(stored))
			}
		})
	}
}

func regionOf(r string) string {
	if r == "" || strings.Contains(r, "/") {
		return export.UnknownRegion
	}
	return r
}

func dayPath(t time.Time) string {
	y, m, d := t.Date()
	return fmt.Sprintf("year=%d/month=%d/day=%d/", y, int(m), d)
}

// columnValues lists a row's values in RowColumns order (pointers
// dereferenced, nil kept), so a failure names the column.
func columnValues(r export.Row) []any {
	v := reflect.ValueOf(r)
	out := make([]any, v.NumField())
	for i := range out {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				out[i] = nil
				continue
			}
			f = f.Elem()
		}
		out[i] = f.Interface()
	}
	return out
}

// checkSchema checks the file's columns: names in order, UTF-8 strings,
// optional exactly where documented, Snappy-compressed.
func checkSchema(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	fields := pf.Schema().Fields()
	var names []string
	for _, fd := range fields {
		names = append(names, fd.Name())
		if lt := fd.Type().LogicalType(); lt == nil || lt.String() != "STRING" {
			t.Errorf("column %s: logical type %v, want STRING", fd.Name(), lt)
		}
		wantOptional := slices.Contains([]string{"request_parameters", "response_elements", "raw"}, fd.Name())
		if fd.Optional() != wantOptional {
			t.Errorf("column %s: optional %v, want %v", fd.Name(), fd.Optional(), wantOptional)
		}
	}
	if !slices.Equal(names, export.RowColumns) {
		t.Errorf("columns %v, want %v", names, export.RowColumns)
	}
	if !slices.Equal(names[:len(iamwatch.Columns)], iamwatch.Columns) {
		t.Errorf("the first columns are %v, want iamwatch.Columns", names[:len(iamwatch.Columns)])
	}
	for _, rg := range pf.Metadata().RowGroups {
		for _, c := range rg.Columns {
			if c.MetaData.Codec.String() != "SNAPPY" {
				t.Errorf("column %v: codec %s, want SNAPPY", c.MetaData.PathInSchema, c.MetaData.Codec)
			}
		}
	}
}

// TestIncremental: a second run writes nothing; a new event rewrites its
// day only, replacing the old file; a pruned day is kept.
func TestIncremental(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, fixtureEvents())
	dir := t.TempDir()
	dst, err := export.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	h.run(t, dst, export.Options{})
	first := list(t, dst)
	manifest1, err := dst.Get(ctx, export.ManifestKey)
	if err != nil {
		t.Fatal(err)
	}

	h.clock.t = h.clock.t.Add(time.Hour)
	rep := h.run(t, dst, export.Options{})
	if rep.Written != 0 || rep.Unchanged != 4 || len(rep.Files) != 0 || len(rep.Deleted) != 0 {
		t.Errorf("second run: %+v; want nothing written, 4 unchanged", rep)
	}
	if got := list(t, dst); !slices.Equal(got, first) {
		t.Errorf("second run changed the files:\n%v\nwant\n%v", got, first)
	}
	if m, _ := dst.Get(ctx, export.ManifestKey); string(m) != string(manifest1) {
		t.Error("second run rewrote the manifest")
	}

	// A late event for 2024-01-06.
	late := fixtureEvents()[3]
	late.ID, late.Time = "ev-late", late.Time.Add(5*time.Hour)
	if _, err := h.st.PutEvents(ctx, []iamwatch.Event{late}); err != nil {
		t.Fatal(err)
	}
	h.clock.t = h.clock.t.Add(time.Hour)
	rep = h.run(t, dst, export.Options{})
	oldKey := "year=2024/month=1/day=6/events_20250304_050607.parquet"
	newKey := "year=2024/month=1/day=6/events_20250304_070607.parquet"
	if rep.Written != 1 || rep.Unchanged != 3 || len(rep.Files) != 1 || rep.Files[0].Key != newKey || rep.Files[0].Rows != 2 {
		t.Errorf("after a late event: %+v; want day 6 rewritten to %s with 2 rows", rep, newKey)
	}
	if !slices.Equal(rep.Deleted, []string{oldKey}) {
		t.Errorf("deleted %v, want [%s]", rep.Deleted, oldKey)
	}
	want := slices.Clone(first)
	want[slices.Index(want, oldKey)] = newKey
	slices.Sort(want)
	if got := list(t, dst); !slices.Equal(got, want) {
		t.Errorf("files after rewrite:\n%v\nwant\n%v", got, want)
	}
	rows, err := parquet.ReadFile[export.Row](filepath.Join(dir, filepath.FromSlash(newKey)))
	if err != nil || len(rows) != 2 || rows[1].EventID != "ev-late" {
		t.Errorf("rewritten day: %d rows (%v), want ev-004 and ev-late", len(rows), err)
	}
	m, err := export.ReadManifest(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.Days["2024-01-06"]; e.Count != 2 || !slices.Equal(e.Files, []string{newKey}) {
		t.Errorf("manifest day: %+v", e)
	}

	// Pruning the store does not shrink the export.
	if _, _, err := h.st.Prune(ctx, time.Date(2024, 1, 5, 12, 0, 0, 0, time.UTC), time.Time{}); err != nil {
		t.Fatal(err)
	}
	h.clock.t = h.clock.t.Add(time.Hour)
	rep = h.run(t, dst, export.Options{})
	if rep.Written != 0 || !slices.Equal(rep.Kept, []string{"2024-01-05"}) {
		t.Errorf("after prune: %+v; want 2024-01-05 kept, nothing written", rep)
	}

	// Switching to regions rewrites everything in range; Since/Until select days.
	rep = h.run(t, dst, export.Options{ByRegion: true, Since: time.Date(2024, 1, 6, 12, 0, 0, 0, time.UTC), Until: time.Date(2024, 2, 1, 0, 0, 1, 0, time.UTC)})
	if rep.Days != 2 || rep.Written != 2 {
		t.Errorf("by region 6 Jan – 1 Feb: %+v; want 2 days written", rep)
	}
	if got := list(t, dst); slices.Contains(got, newKey) || !slices.Contains(got, "year=2024/month=1/day=6/region=unknown/events_20250304_080607.parquet") {
		t.Errorf("after by-region rewrite: %v", got)
	}
}

// TestRowGroups: a day larger than a row group is split into several row
// groups and reads back whole.
func TestRowGroups(t *testing.T) {
	var evs []iamwatch.Event
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2500 {
		evs = append(evs, iamwatch.Event{ID: fmt.Sprintf("e%05d", i), Time: base.Add(time.Duration(i) * time.Second), Name: "GetUser", Region: "us-east-1"})
	}
	h := newHarness(t, evs)
	dir := t.TempDir()
	dst, _ := export.NewDir(dir)
	rep := h.run(t, dst, export.Options{RowGroupRows: 1000})
	if len(rep.Files) != 1 || rep.Files[0].Rows != 2500 {
		t.Fatalf("files %+v", rep.Files)
	}
	f, err := os.Open(filepath.Join(dir, rep.Files[0].Key))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.RowGroups()); n != 3 {
		t.Errorf("%d row groups, want 3", n)
	}
	if pf.NumRows() != 2500 {
		t.Errorf("%d rows", pf.NumRows())
	}
}

func TestManifestErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ name, body, want string }{
		{"corrupt", "{", "move it away"},
		{"newer", `{"version":99,"days":{}}`, "newer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, fixtureEvents())
			dir := t.TempDir()
			dst, _ := export.NewDir(dir)
			if err := os.WriteFile(filepath.Join(dir, export.ManifestKey), []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := export.Run(ctx, h.src, dst, export.Options{Now: h.clock.now, TempDir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, export.ManifestKey)); string(b) != tc.body {
				t.Error("the manifest was overwritten")
			}
		})
	}
}

func TestDirRefusesEscapingKeys(t *testing.T) {
	dst, _ := export.NewDir(t.TempDir())
	for _, k := range []string{"../x", "/abs", "a/../../b", ""} {
		if err := dst.Put(context.Background(), k, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put(%q) succeeded", k)
		}
	}
}
