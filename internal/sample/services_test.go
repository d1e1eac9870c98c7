package sample

import (
	"testing"
)

// TestStreamServices checks the service-heavy mix: time order (the trail
// writer needs it), the shares of service records, of the log-delivery
// denials and of the instances' agents (some through a VPC endpoint),
// every region, and the limit.
func TestStreamServices(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		days  int
	}{
		{"two days", 10_000, 2}, // the scenarios (a few hundred records) weigh more in small trails.
		{"week", 20_000, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n, svc, denied, identity, agents, endpoint int
			regions := map[string]bool{}
			var last Record
			err := StreamServices(Options{Days: tc.days}, ServiceMix{}, tc.limit, func(r *Record) error {
				if n > 0 && r.EventTime.Before(last.EventTime) {
					t.Fatalf("record %d at %s before %s", n, r.EventTime, last.EventTime)
				}
				if r.RecipientAccountID == "" || r.EventID == "" {
					t.Fatalf("record %d (%s %s): no account or event ID", n, r.EventSource, r.EventName)
				}
				last = *r
				n++
				regions[r.AWSRegion] = true
				typ, _ := r.UserIdentity.Get("type").(string)
				if _, by := r.UserIdentity.Get("invokedBy").(string); by || typ == kindAWSService || r.EventType == "AwsServiceEvent" {
					svc++
				}
				if r.UserIdentity.Get("invokedBy") == logDelivery && r.ErrorCode == "AccessDenied" {
					denied++
				}
				if typ == kindIAMUser || typ == kindRoot {
					identity++
				}
				if sc, _ := r.UserIdentity.Get("sessionContext").(Object); sc.Get("ec2RoleDelivery") != nil && r.UserAgent == uaSSMAgent {
					agents++
					if r.VPCEndpointID != "" {
						endpoint++
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.limit {
				t.Errorf("%d records, want %d", n, tc.limit)
			}
			if s := float64(svc) / float64(n); s < 0.8 || s > 0.95 {
				t.Errorf("service share %.2f, want about 0.9", s)
			}
			if s := float64(denied) / float64(n); s < 0.25 || s > 0.4 {
				t.Errorf("log-delivery denials %.2f of the records, want about a third", s)
			}
			if tc.limit >= 20_000 && len(regions) != len(Regions) {
				t.Errorf("%d regions, want all %d", len(regions), len(Regions))
			}
			if s := float64(agents) / float64(n); s < 0.015 || s > 0.05 || endpoint == 0 || endpoint == agents {
				t.Errorf("instance agents %.3f of the records (%d through a VPC endpoint), want about 0.03, some through one", s, endpoint)
			}
			if identity == 0 {
				t.Error("no IAM user or root records: the people are missing")
			}
		})
	}
}

// TestHeavyTailFileSizes checks the size distribution's median and mean.
func TestHeavyTailFileSizes(t *testing.T) {
	s := NewHeavyTailFileSizes(1)
	const n = 100_000
	small, sum, most := 0, 0, 0
	for range n {
		k := s.Next()
		if k < 1 || k > 10_000 {
			t.Fatalf("size %d out of [1, 10000]", k)
		}
		if k <= 3 {
			small++
		}
		sum += k
		most = max(most, k)
	}
	if small < n/20 || most < 1000 {
		t.Errorf("%d of %d sizes ≤ 3, largest %d: want a heavy tail with small files", small, n, most)
	}
}

// TestObjectsMix: the objects profile's trail is mostly an application's S3
// data events, reads and writes both, and keeps the services and people.
func TestObjectsMix(t *testing.T) {
	var n, data, writes, identity int
	err := StreamServices(Options{Days: 2}, ObjectsMix, 20_000, func(r *Record) error {
		n++
		if r.EventCategory == "Data" && r.EventSource == "s3.amazonaws.com" && r.UserAgent == uaJava {
			data++
			if r.ReadOnly != nil && !*r.ReadOnly {
				writes++
			}
		}
		if typ, _ := r.UserIdentity.Get("type").(string); typ == kindIAMUser || typ == kindRoot {
			identity++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := float64(data) / float64(n); s < 0.7 || s > 0.85 || writes*3 < data || writes*3 > 2*data || identity == 0 {
		t.Errorf("%d of %d records an application's data events (%d writes), %d people's: want about 80%%, half of them writes, and people", data, n, writes, identity)
	}
}
