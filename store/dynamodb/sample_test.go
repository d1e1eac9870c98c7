package dynamodb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/sampledata"
	"github.com/iamwatch/iamwatch/store/dynamodb"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// TestSampleSameAlertsAsSQLite scans the shipped sample (every rule's
// scenarios, the first-seen ones with their learning period, impossible
// travel, the sequences) through the pipeline into DynamoDB and into
// SQLite, with the catalog and the sample GeoIP database: both stores end
// with the same alerts, each raised by the same event with the same count
// and summary.
func TestSampleSameAlertsAsSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite")
	}
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	geo, err := geoip.Sample()
	if err != nil {
		t.Fatal(err)
	}
	defer geo.Close()
	eng, err := detect.New(catalog, detect.Config{Geo: geo})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := pipeline.FromFS(sampledata.FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	scan := func(st pipeline.Store) string {
		t.Helper()
		p, err := pipeline.New(st, pipeline.Options{Detector: eng})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Read(context.Background(), ins, pipeline.ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		as, err := st.Alerts(context.Background(), iamwatch.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		lines := make([]string, len(as))
		for i, a := range as {
			lines[i] = fmt.Sprintf("%s %s %s %s %d %s", a.Rule, a.Group, a.EventID, a.Severity, a.Count, a.Summary)
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	lite, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sample.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	want := scan(lite)
	got := scan(openStore(t, emulator(t), dynamodb.Config{}))
	if strings.Count(want, "\n") < 100 {
		t.Fatalf("SQLite holds %d alerts from the sample; want over 100", strings.Count(want, "\n")+1)
	}
	for _, rule := range []string{"signin-new-country", "signin-impossible-travel", "region-first-activity", "iam-backdoor-admin-user", "instance-credentials-stolen"} {
		if !strings.Contains(got, "\n"+rule+" ") && !strings.HasPrefix(got, rule+" ") {
			t.Errorf("DynamoDB holds no %s alert from the sample", rule)
		}
	}
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for _, l := range wl {
			if !slices.Contains(gl, l) {
				t.Errorf("only in SQLite: %s", l)
			}
		}
		for _, l := range gl {
			if !slices.Contains(wl, l) {
				t.Errorf("only in DynamoDB: %s", l)
			}
		}
	}
}
