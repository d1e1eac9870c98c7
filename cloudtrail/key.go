package cloudtrail

import (
	"fmt"
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
	var parts []string
	var ok bool
	if k.Prefix, k.OrgID, parts, ok = splitAWSLogs(key, -1); !ok {
		return KeyInfo{}, false
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

// SkipByName reports whether name alone says the file is not to be read,
// with the reason wrapping ErrSkipped: a CloudTrail digest or Insights file,
// or another AWS service's log (Config, VPC flow logs, load balancers, …) as
// delivered to the bucket that often holds the trail's files too. It is nil
// for any other name, the content then deciding. Readers of S3 notifications
// ask it before downloading an object.
func SkipByName(name string) error {
	switch kind, service := fileKind(name); kind {
	case KindDigest:
		return fmt.Errorf("%w: digest file", ErrSkipped)
	case KindInsight:
		return fmt.Errorf("%w: insights file", ErrSkipped)
	case kindOther:
		return fmt.Errorf("%w: %s, not CloudTrail", ErrSkipped, service)
	}
	return nil
}

// kindOther is a file another AWS service delivered (otherLogs), by its name.
const kindOther KeyKind = "other"

// otherLogs names the other AWS services that deliver logs beside
// CloudTrail's, by the folder after AWSLogs/<account>/ and the word after
// <account>_ in their file names (AWS Config's
// AWSLogs/<account>/Config/<region>/…/<account>_Config_<region>_ConfigHistory_…).
// A name missing here is read and refused by its content, as before.
var otherLogs = map[string]string{
	"Config":               "an AWS Config log file",
	"vpcflowlogs":          "a VPC flow log file",
	"elasticloadbalancing": "an Elastic Load Balancing access log file",
	"WAFLogs":              "an AWS WAF log file",
	"waflogs":              "an AWS WAF log file",
	"vpcdnsquerylogs":      "a Route 53 Resolver query log file",
	"network-firewall":     "a Network Firewall log file",
	"GuardDuty":            "a GuardDuty findings file",
}

// writeTestFile is the object a CloudWatch Logs export task writes beside
// its exports ("Permission Check Successful") before it writes them.
const writeTestFile = "aws-logs-write-test"

// fileKind is the kind a CloudTrail file name says, and for kindOther the
// service. A file named as AWS delivers it, ACCOUNT_WORD_…, says it by its
// word: CloudTrail (a log), CloudTrail-Digest, CloudTrail-Insight, or one of
// otherLogs (Config, vpcflowlogs, …). Otherwise a trail bucket key (ParseKey)
// says it by its CloudTrail-Digest or CloudTrail-Insight folder, another
// service's key by its folder after AWSLogs/<account>/. Anything else is a
// log, or not CloudTrail's name at all (the content decides): a folder merely
// called CloudTrail-Digest-backup says nothing.
func fileKind(name string) (KeyKind, string) {
	base := name
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		base = name[i+1:]
	}
	if base == writeTestFile {
		return kindOther, "a CloudWatch Logs export's write test"
	}
	if len(base) > 13 && base[12] == '_' && isAccount(base[:12]) {
		if word, _, ok := strings.Cut(base[13:], "_"); ok {
			switch word {
			case "CloudTrail":
				return KindLog, ""
			case "CloudTrail-Digest":
				return KindDigest, ""
			case "CloudTrail-Insight":
				return KindInsight, ""
			}
			if service, ok := otherLogs[word]; ok {
				return kindOther, service
			}
		}
	}
	if k, ok := ParseKey(name); ok {
		return k.Kind, ""
	}
	if service, ok := otherLogs[awsLogsFolder(name)]; ok {
		return kindOther, service
	}
	return KindLog, ""
}

// awsLogsFolder is the folder after AWSLogs/[<org-id>/]<account>/ in name
// when a file lies below it, else "".
func awsLogsFolder(name string) string {
	// <account>/<folder>/<the rest>, after an organisation ID of its own.
	_, _, parts, ok := splitAWSLogs(name, 4)
	if !ok || len(parts) < 3 || !isAccount(parts[0]) {
		return ""
	}
	return parts[1]
}

// splitAWSLogs splits name at its last AWSLogs/ folder: the prefix before
// it (without the trailing slash), the organisation ID after it if there
// is one, and the rest's elements (at most n, as strings.SplitN; after the
// ID, so one fewer then). ok is false without an AWSLogs/ folder.
func splitAWSLogs(name string, n int) (prefix, org string, parts []string, ok bool) {
	i := strings.LastIndex(name, "AWSLogs/")
	if i < 0 || (i > 0 && name[i-1] != '/') {
		return "", "", nil, false
	}
	parts = strings.SplitN(name[i+len("AWSLogs/"):], "/", n)
	if len(parts) > 0 && isOrgID(parts[0]) {
		org, parts = parts[0], parts[1:]
	}
	return strings.TrimSuffix(name[:i], "/"), org, parts, true
}
