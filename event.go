package iamwatch

import (
	"encoding/json"
	"time"
)

// EventType is the coarse family of an event, derived from its event source.
type EventType string

// The event types. SSO covers sso, sso-directory, identitystore and sso-oauth.
const (
	TypeIAM    EventType = "iam"
	TypeSTS    EventType = "sts"
	TypeSignin EventType = "signin"
	TypeSSO    EventType = "sso"
	TypeOther  EventType = "other"
)

// IsIdentity reports whether t is one of the identity families (everything but other).
func (t EventType) IsIdentity() bool { return t != "" && t != TypeOther }

// Event is one CloudTrail record, normalised. Field names map one to one onto
// the documented event columns (see Columns); the SQLite table, the DynamoDB
// items and the Parquet schema all use those names.
//
// An Event is a value: once decoded it is not modified, and may be shared
// between goroutines for reading.
type Event struct {
	ID       string    // event_id: CloudTrail eventID, the idempotency key.
	Time     time.Time // event_time: eventTime, always UTC.
	Source   string    // event_source: eventSource, e.g. "iam.amazonaws.com".
	Name     string    // event_name: eventName, e.g. "CreateUser".
	Type     EventType // event_type: iam, sts, signin, sso or other.
	Category string    // CloudTrail's own eventType: AwsApiCall, AwsConsoleSignIn, AwsServiceEvent, …

	UserName     string // user_name: the actor a person reading an alert needs (see cloudtrail.Identity).
	IdentityType string // identity_type: userIdentity.type (Root, IAMUser, AssumedRole, …).
	PrincipalARN string // principal_arn: userIdentity.arn.
	AccountID    string // account_id: recipientAccountId, else userIdentity.accountId.
	Region       string // aws_region: awsRegion.
	SourceIP     string // source_ip: sourceIPAddress (an IP, or a service name for service calls).
	UserAgent    string // user_agent: userAgent. Attacker-controlled text.
	InvokedBy    string // userIdentity.invokedBy, set when an AWS service made the call.
	TargetRole   string // for AssumeRole*, requestParameters.roleArn: the role being assumed.
	// AccessKeyID is userIdentity.accessKeyId, the credentials the call was
	// signed with (AKIA… a long-term key, ASIA… temporary ones). Not an
	// event column: stores keep it in Raw only, and an Event read back from
	// a store's columns has it empty.
	AccessKeyID string
	// SessionFromConsole is sessionCredentialFromConsole as the record
	// writes it ("true" for a call made through the AWS console, else
	// empty). Not an event column either: kept in Raw only.
	SessionFromConsole string
	// EC2RoleDelivery is userIdentity.sessionContext.ec2RoleDelivery ("1.0"
	// or "2.0": the credentials of an EC2 instance profile, read through
	// IMDSv1 or v2) and VPCEndpointID vpcEndpointId (a call through a VPC
	// endpoint), as the record writes them. Not event columns: kept in
	// Raw only. The engine decides the instance-credential rules on them
	// without parsing the record again.
	EC2RoleDelivery string
	VPCEndpointID   string
	// DataEvent is true for a call on a resource's contents rather than
	// its configuration: eventCategory Data or NetworkActivity, or
	// managementEvent false in a record without eventCategory (an S3
	// object written, a Lambda function invoked). Not a column either.
	DataEvent bool
	// ServiceLinkedRole is true for a session of a service-linked role:
	// userIdentity.sessionContext.sessionIssuer.arn has the path IAM
	// reserves for them, /aws-service-role/. Only the AWS service the role
	// is linked to can assume it. Not a column either (see
	// ServiceLinkedRead).
	ServiceLinkedRole bool

	RequestParameters json.RawMessage // request_parameters: JSON object, or nil. Attacker-controlled.
	ResponseElements  json.RawMessage // response_elements: JSON object, or nil.
	ErrorCode         string          // error_code: errorCode, or "" when the call succeeded.
	ErrorMessage      string          // error_message.

	MFAUsed  string // mfa_used: "yes", "no" or "" when the record does not say.
	ReadOnly string // read_only: "true", "false" or "" when the record does not say.

	// Geo is where SourceIP is, from the GeoIP database the user configured
	// (country, asn, as_org); zero when none is configured, SourceIP is no
	// address (an AWS service), or the database does not know it. The
	// detection engine fills it in before anything stores the event.
	Geo Geo

	// Raw is the whole record as CloudTrail wrote it (JSON). Stores keep it
	// compressed; detection reads fields the columns above do not carry.
	// It is read-only: the decoder's strings above share its memory.
	Raw json.RawMessage
}

// Date returns event_date, the UTC day of the event as YYYY-MM-DD.
func (e *Event) Date() string { return e.Time.UTC().Format(time.DateOnly) }

// Failed reports whether the call failed (errorCode set). The decoder sets
// ErrorCode for a console sign-in whose response says Failure, too.
func (e *Event) Failed() bool { return e.ErrorCode != "" }

// TimeFormat is how event_time is written wherever it is text: RFC 3339, UTC,
// whole seconds (CloudTrail's own precision).
const TimeFormat = "2006-01-02T15:04:05Z"

// Columns lists the event columns in their documented order. Every store and
// export uses these names.
var Columns = []string{
	"event_id", "event_time", "event_date", "event_source", "event_name", "event_type",
	"user_name", "identity_type", "principal_arn", "account_id", "aws_region",
	"source_ip", "user_agent", "request_parameters", "response_elements",
	"error_code", "error_message", "mfa_used", "read_only",
}

// Column returns the value of the event column name (one of Columns, or
// category, invoked_by, target_role, country, asn, as_org, access_key_id,
// session_from_console) as text: the JSON columns as their JSON
// text, "" when absent. ok is false for an unknown name.
func (e *Event) Column(name string) (value string, ok bool) {
	switch name {
	case "event_id":
		return e.ID, true
	case "event_time":
		return e.Time.UTC().Format(TimeFormat), true
	case "event_date":
		return e.Date(), true
	case "event_source":
		return e.Source, true
	case "event_name":
		return e.Name, true
	case "event_type":
		return string(e.Type), true
	case "user_name":
		return e.UserName, true
	case "identity_type":
		return e.IdentityType, true
	case "principal_arn":
		return e.PrincipalARN, true
	case "account_id":
		return e.AccountID, true
	case "aws_region":
		return e.Region, true
	case "source_ip":
		return e.SourceIP, true
	case "user_agent":
		return e.UserAgent, true
	case "request_parameters":
		return string(e.RequestParameters), true
	case "response_elements":
		return string(e.ResponseElements), true
	case "error_code":
		return e.ErrorCode, true
	case "error_message":
		return e.ErrorMessage, true
	case "mfa_used":
		return e.MFAUsed, true
	case "read_only":
		return e.ReadOnly, true
	case "category":
		return e.Category, true
	case "invoked_by":
		return e.InvokedBy, true
	case "target_role":
		return e.TargetRole, true
	case "country":
		return e.Geo.Country, true
	case "asn":
		return e.Geo.ASNText(), true
	case "as_org":
		return e.Geo.ASOrg, true
	case "access_key_id":
		return e.AccessKeyID, true
	case "session_from_console":
		return e.SessionFromConsole, true
	}
	return "", false
}
