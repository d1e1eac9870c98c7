package detect

import (
	"strings"

	"github.com/iamwatch/iamwatch"
)

// Fields are the normalised event fields rules may name in threshold.by,
// dedup.fields, summaries ({{.user_name}}) and conditions (user_name). They
// are the documented event columns, plus:
//
//   - category: CloudTrail's own eventType (AwsApiCall, AwsConsoleSignIn, …);
//   - invoked_by: userIdentity.invokedBy;
//   - target_role: the role an AssumeRole* call assumes;
//   - role_name: the role of the actor (from an assumed-role or role ARN), or "".
var Fields = []string{
	"event_id", "event_time", "event_date", "event_source", "event_name", "event_type",
	"category", "user_name", "identity_type", "principal_arn", "role_name", "account_id",
	"aws_region", "source_ip", "user_agent", "invoked_by", "target_role",
	"error_code", "error_message", "mfa_used", "read_only",
}

func knownField(name string) bool {
	for _, f := range Fields {
		if f == name {
			return true
		}
	}
	return false
}

// fieldValue returns a normalised field of ev by name ("" when unknown).
func fieldValue(ev *iamwatch.Event, name string) string {
	switch name {
	case "event_id":
		return ev.ID
	case "event_time":
		return ev.Time.UTC().Format(iamwatch.TimeFormat)
	case "event_date":
		return ev.Date()
	case "event_source":
		return ev.Source
	case "event_name":
		return ev.Name
	case "event_type":
		return string(ev.Type)
	case "category":
		return ev.Category
	case "user_name":
		return ev.UserName
	case "identity_type":
		return ev.IdentityType
	case "principal_arn":
		return ev.PrincipalARN
	case "role_name":
		return RoleName(ev.PrincipalARN)
	case "account_id":
		return ev.AccountID
	case "aws_region":
		return ev.Region
	case "source_ip":
		return ev.SourceIP
	case "user_agent":
		return ev.UserAgent
	case "invoked_by":
		return ev.InvokedBy
	case "target_role":
		return ev.TargetRole
	case "error_code":
		return ev.ErrorCode
	case "error_message":
		return ev.ErrorMessage
	case "mfa_used":
		return ev.MFAUsed
	case "read_only":
		return ev.ReadOnly
	}
	return ""
}

// RoleName returns the role name an ARN names: for
// arn:aws:sts::<acct>:assumed-role/<role>/<session> and
// arn:aws:iam::<acct>:role/<path>/<role> the role, else "".
func RoleName(arn string) string {
	_, res, ok := strings.Cut(arn, ":assumed-role/")
	if ok {
		role, _, _ := strings.Cut(res, "/")
		return role
	}
	_, res, ok = strings.Cut(arn, ":role/")
	if ok {
		return res[strings.LastIndexByte(res, '/')+1:]
	}
	return ""
}

// lastSegment returns what follows the last "/" (a policy name from its ARN).
func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }
