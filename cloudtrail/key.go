package cloudtrail

import (
	"strings"
	"time"
)

// KeyKind is the kind of file an S3 key names.
type KeyKind string

// The kinds of trail bucket files.
const (
	KindLog     KeyKind = "log"     // CloudTrail/: event log files
	KindDigest  KeyKind = "digest"  // CloudTrail-Digest/: integrity digests, skipped
	KindInsight KeyKind = "insight" // CloudTrail-Insight/: Insights events, skipped
)

// KeyInfo is what the S3 key of a trail file says.
type KeyInfo struct {
	Prefix  string    // the trail's S3 key prefix before "AWSLogs/", without the trailing slash
	OrgID   string    // the organisation ID (o-…) of an organisation trail, else ""
	Account string    // the 12-digit account the events belong to
	Region  string    // e.g. "us-east-1"
	Date    time.Time // the UTC day of the folder
	Kind    KeyKind
	File    string // the file name
}

// ParseKey reads a trail bucket key:
//
//	[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
//	[prefix/]AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
//
// with CloudTrail-Digest or CloudTrail-Insight in place of CloudTrail for
// digest and Insights files. It reports false for any other key.
func ParseKey(key string) (KeyInfo, bool) {
	var k KeyInfo
	i := strings.LastIndex(key, "AWSLogs/")
	if i < 0 || (i > 0 && key[i-1] != '/') {
		return KeyInfo{}, false
	}
	k.Prefix = strings.TrimSuffix(key[:i], "/")
	parts := strings.Split(key[i+len("AWSLogs/"):], "/")
	if len(parts) > 0 && isOrgID(parts[0]) {
		k.OrgID = parts[0]
		parts = parts[1:]
	}
	// <account>/<CloudTrail…>/<region>/YYYY/MM/DD/<file>
	if len(parts) != 7 || !isAccount(parts[0]) || parts[2] == "" || parts[6] == "" {
		return KeyInfo{}, false
	}
	k.Account, k.Region, k.File = parts[0], parts[2], parts[6]
	switch parts[1] {
	case "CloudTrail":
		k.Kind = KindLog
	case "CloudTrail-Digest":
		k.Kind = KindDigest
	case "CloudTrail-Insight":
		k.Kind = KindInsight
	default:
		return KeyInfo{}, false
	}
	if len(parts[3]) != 4 || len(parts[4]) != 2 || len(parts[5]) != 2 {
		return KeyInfo{}, false
	}
	d, err := time.Parse("2006/01/02", parts[3]+"/"+parts[4]+"/"+parts[5])
	if err != nil {
		return KeyInfo{}, false
	}
	k.Date = d
	return k, true
}

// isAccount reports whether s is a 12-digit account ID.
func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isOrgID reports whether s is an organisation ID: "o-" and 10 to 32
// lower-case letters or digits.
func isOrgID(s string) bool {
	if !strings.HasPrefix(s, "o-") || len(s) < 12 || len(s) > 34 {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// fileKind is the kind a CloudTrail file name says: a trail bucket key
// (ParseKey) says it by its CloudTrail-Digest or CloudTrail-Insight
// folder; otherwise the last path element decides, ACCOUNT_CloudTrail-Digest_…
// and ACCOUNT_CloudTrail-Insight_… being digest and Insights files.
// Anything else is a log, or not CloudTrail's name at all (the content
// decides): a folder merely called CloudTrail-Digest-backup says nothing.
func fileKind(name string) KeyKind {
	if k, ok := ParseKey(name); ok {
		return k.Kind
	}
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	if len(name) < 13 || name[12] != '_' || !isAccount(name[:12]) {
		return KindLog
	}
	switch rest := name[13:]; {
	case strings.HasPrefix(rest, "CloudTrail-Digest_"):
		return KindDigest
	case strings.HasPrefix(rest, "CloudTrail-Insight_"):
		return KindInsight
	}
	return KindLog
}
