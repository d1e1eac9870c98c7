package cloudtrail

import (
	"testing"
	"time"
)

func TestParseKey(t *testing.T) {
	day := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		key  string
		ok   bool
		want KeyInfo
	}{
		{"AWSLogs/210987654321/CloudTrail/us-east-1/2025/03/04/210987654321_CloudTrail_us-east-1_20250304T0815Z_a1B2c3D4e5F6g7H8.json.gz", true,
			KeyInfo{Account: "210987654321", Region: "us-east-1", Date: day, Kind: KindLog, File: "210987654321_CloudTrail_us-east-1_20250304T0815Z_a1B2c3D4e5F6g7H8.json.gz"}},
		{"trails/prod/AWSLogs/o-a1b2c3d4e5/210987654321/CloudTrail/eu-west-1/2025/03/04/f.json.gz", true,
			KeyInfo{Prefix: "trails/prod", OrgID: "o-a1b2c3d4e5", Account: "210987654321", Region: "eu-west-1", Date: day, Kind: KindLog, File: "f.json.gz"}},
		{"AWSLogs/210987654321/CloudTrail-Digest/us-east-1/2025/03/04/d.json.gz", true,
			KeyInfo{Account: "210987654321", Region: "us-east-1", Date: day, Kind: KindDigest, File: "d.json.gz"}},
		{"AWSLogs/o-a1b2c3d4e5/210987654321/CloudTrail-Insight/us-east-1/2025/03/04/i.json.gz", true,
			KeyInfo{OrgID: "o-a1b2c3d4e5", Account: "210987654321", Region: "us-east-1", Date: day, Kind: KindInsight, File: "i.json.gz"}},
		{"AWSLogs/210987654321/CloudTrail/us-east-1/2025/02/30/f.json.gz", false, KeyInfo{}}, // no such day
		{"AWSLogs/21098765432/CloudTrail/us-east-1/2025/03/04/f.json.gz", false, KeyInfo{}},  // 11 digits
		{"AWSLogs/210987654321/Config/us-east-1/2025/03/04/f.json.gz", false, KeyInfo{}},
		{"AWSLogs/210987654321/CloudTrail/us-east-1/2025/03/04/", false, KeyInfo{}},
		{"AWSLogs/210987654321/CloudTrail/us-east-1/2025/3/4/f.json.gz", false, KeyInfo{}},
		{"myAWSLogs/210987654321/CloudTrail/us-east-1/2025/03/04/f.json.gz", false, KeyInfo{}},
		{"AWSLogs/o-UPPER12345/210987654321/CloudTrail/us-east-1/2025/03/04/f.json.gz", false, KeyInfo{}},
		{"random/key.json", false, KeyInfo{}},
	}
	for _, tt := range tests {
		got, ok := ParseKey(tt.key)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v, %v", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}
