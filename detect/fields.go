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
//   - role_name: the role of the actor (from an assumed-role or role ARN), or "";
//   - country, asn ("AS64496"), as_org: where source_ip is (iamwatch.Geo),
//     "" without a GeoIP database;
//   - access_key_id: userIdentity.accessKeyId, the credentials used;
//   - session_from_console: sessionCredentialFromConsole, "true" for a
//     call made through the AWS console, else "";
//   - principal: the identity behind the actor, stable across its sessions:
//     "role/<name>" for a session of a role other than Identity Center's,
//     else user_name (a user, root, the person of an Identity Center
//     session). First-seen rules key on it: a role's sessions share one
//     history, however they are named.
var Fields = []string{
	"event_id", "event_time", "event_date", "event_source", "event_name", "event_type",
	"category", "user_name", "identity_type", "principal_arn", "role_name", "account_id",
	"aws_region", "source_ip", "user_agent", "invoked_by", "target_role",
	"error_code", "error_message", "mfa_used", "read_only", "country", "asn", "as_org",
	"access_key_id", "session_from_console", "principal", "tool",
}

func knownField(name string) bool {
	for _, f := range Fields {
		if f == name {
			return true
		}
	}
	return false
}

// fieldValue returns a normalised field of ev by name ("" when unknown):
// an event column (iamwatch.Event.Column) or role_name.
func fieldValue(ev *iamwatch.Event, name string) string {
	switch name {
	case "role_name":
		return RoleName(ev.PrincipalARN)
	case "principal":
		return principalOf(ev)
	case "tool":
		return Tool(ev.UserAgent)
	}
	v, _ := ev.Column(name)
	return v
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

// SecretName returns the name of the Secrets Manager secret a secret ID
// names: of a complete ARN (arn:aws:secretsmanager:<region>:<acct>:
// secret:<name>-<six characters>) the name without the six characters
// Secrets Manager appended, of a partial ARN the name, else the ID as
// given (a name). The same secret asked for by ARN and by name is then
// one secret. A partial ARN whose name itself ends in a hyphen and six
// letters or digits ("db-backup") reads as a complete one ("db"), the
// ambiguity Secrets Manager's own documentation warns of.
func SecretName(id string) string {
	_, name, ok := strings.Cut(id, ":secret:")
	if !ok || !strings.HasPrefix(id, "arn:") {
		return id
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 && len(name)-i-1 == 6 && isAlnum(name[i+1:]) {
		return name[:i]
	}
	return name
}

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// principalOf returns the principal field of ev (see Fields).
func principalOf(ev *iamwatch.Event) string {
	if ev.IdentityType == "AssumedRole" {
		if role := RoleName(ev.PrincipalARN); role != "" && !strings.HasPrefix(role, "AWSReservedSSO_") {
			return "role/" + role
		}
	}
	return ev.UserName
}

// lastSegment returns what follows the last "/" (a policy name from its ARN).
func lastSegment(s string) string { return s[strings.LastIndexByte(s, '/')+1:] }
