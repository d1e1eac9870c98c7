package lookup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/source/lookup"
)

// accountServer answers Account Management's ListRegions (REST-JSON, POST
// /listRegions) with the given regions, pageSize a page, enabled ones only
// when asked to filter, as the service does.
func accountServer(t *testing.T, regions map[string]string, pageSize int) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	names := []string{"af-south-1", "ap-southeast-2", "eu-west-1", "us-east-1", "us-west-2"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/listRegions" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			http.Error(w, `{"message":"unexpected request"}`, http.StatusBadRequest)
			return
		}
		var in struct {
			MaxResults              int
			NextToken               string
			RegionOptStatusContains []string
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.MaxResults < 1 || in.MaxResults > 50 {
			w.Header().Set("X-Amzn-Errortype", "ValidationException")
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		want := map[string]bool{}
		for _, s := range in.RegionOptStatusContains {
			want[s] = true
		}
		var list []map[string]string
		for _, n := range names {
			if st, ok := regions[n]; ok && (len(want) == 0 || want[st]) {
				list = append(list, map[string]string{"RegionName": n, "RegionOptStatus": st})
			}
		}
		start := 0
		if in.NextToken != "" {
			if _, err := fmt.Sscanf(in.NextToken, "page-%d", &start); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
		}
		end := min(start+min(pageSize, in.MaxResults), len(list))
		out := map[string]any{"Regions": list[start:end]}
		if end < len(list) {
			out["NextToken"] = fmt.Sprintf("page-%d", end)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out) // the client's decode reports a short body
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// Regions [all] polls STS in every region the account has enabled.
func TestAllRegionsDiscovered(t *testing.T) {
	base := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, base, 1000, nil)
	acct, calls := accountServer(t, map[string]string{
		"us-east-1": "ENABLED_BY_DEFAULT", "eu-west-1": "ENABLED_BY_DEFAULT",
		"ap-southeast-2": "ENABLED", "af-south-1": "DISABLED", "us-west-2": "ENABLING",
	}, 2)
	t.Setenv("AWS_ENDPOINT_URL_ACCOUNT", acct.URL)
	h.aws = awsConfig(t, h.fake.URL, h.sts.URL)

	sts := func(id, region string) testserver.LookupEvent {
		return testserver.LookupEvent{ID: id, Source: "sts.amazonaws.com", Name: "AssumeRole", Region: region, Account: selfAccount, Time: base.Add(-time.Hour)}
	}
	h.add(true, sts("syd-1", "ap-southeast-2"), sts("dub-1", "eu-west-1"), sts("use-1", "us-east-1"))
	h.add(false, sts("cpt-1", "af-south-1")) // a disabled region is not polled
	src := h.source(lookup.Options{Backfill: 24 * time.Hour, Regions: []string{lookup.AllRegions}})
	if err := src.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.checkExact()
	if calls.Load() != 2 {
		t.Errorf("ListRegions called %d times, want 2 (two pages)", calls.Load())
	}
	if _, ok, _ := h.store.Checkpoint(context.Background(), "lookup/"+selfAccount+"/ap-southeast-2/sts.amazonaws.com"); !ok {
		t.Error("no checkpoint for the discovered region ap-southeast-2")
	}
}
