package cloudtrail

import "strings"

// Identity is the userIdentity element of a CloudTrail record: the fields
// iamwatch reads to name the actor. Every field is attacker-influenced text
// (session names, SAML subjects and user names are chosen by whoever signs
// in); escape them wherever they are shown.
//
// # The actor (Event.UserName)
//
// [Identity.Actor] names the actor a person reading an alert needs, by
// userIdentity.type:
//
//   - Root: "root".
//   - IAMUser: the user name (userName, else the last part of the user ARN,
//     else principalId).
//   - AssumedRole: "role-name/session-name", the role from
//     sessionContext.sessionIssuer.userName or the assumed-role ARN, the
//     session from the ARN or principalId. For a role made by IAM Identity
//     Center (AWSReservedSSO_<PermissionSet>_<hash>) the session name is the
//     person who signed in, so the actor is the session name alone
//     ("alice@example.com"): one person stays one actor across permission sets
//     (thresholds and allow-lists group by it); the permission set remains
//     visible in PrincipalARN.
//   - FederatedUser (GetFederationToken): "issuer/name", the IAM user that
//     federated and the federated name from the ARN or principalId; the name
//     alone when the issuer is not recorded.
//   - SAMLUser (AssumeRoleWithSAML): userName, the SAML subject (usually the
//     person's e-mail), else principalId.
//   - WebIdentityUser (AssumeRoleWithWebIdentity): "provider:subject"
//     (identityProvider and userName), else principalId; a bare subject is
//     an opaque number that names nobody.
//   - AWSService: invokedBy (e.g. "rds.amazonaws.com"), else principalId.
//   - AWSAccount (a caller in another account): "<accountId>/<principalId>",
//     or the account ID alone when principalId is empty.
//   - IdentityCenterUser: additionalEventData.UserName (AWS recommends it over
//     userIdentity.userName for sign-in events), else userName, else
//     onBehalfOf.userId (the identity-store user ID).
//   - Unknown (Identity Center sign-in events, some failed sign-ins):
//     additionalEventData.UserName, else userName, else onBehalfOf.userId,
//     else the name an ARN carries (assumed-role, user), else principalId,
//     else accountId.
//   - A record without userIdentity (some service events and data events):
//     the eventSource, the service that wrote it.
//   - No type, or any other type: userName, else the last part of the ARN,
//     else principalId, else invokedBy, else accountId. Service events often
//     carry only {"accountId":…, "invokedBy":"secretsmanager.amazonaws.com"}
//     (or "AWS Internal"), which so name the service.
//
// Whatever the type, a name of HIDDEN_DUE_TO_SECURITY_REASONS (CloudTrail's
// mask for a failed sign-in with an unknown user name) is kept as it is, and
// when nothing names the actor the result is "unknown", never empty.
type Identity struct {
	Type             string // type: Root, IAMUser, AssumedRole, …
	PrincipalID      string // principalId
	ARN              string // arn
	AccountID        string // accountId
	UserName         string // userName
	InvokedBy        string // invokedBy
	IdentityProvider string // identityProvider (SAMLUser, WebIdentityUser)
	CredentialID     string // credentialId (IdentityCenterUser)
	AccessKeyID      string // accessKeyId: the credentials the call was signed with

	Issuer SessionIssuer // sessionContext.sessionIssuer

	OnBehalfOfUserID string // onBehalfOf.userId: the Identity Center user
	IdentityStoreARN string // onBehalfOf.identityStoreArn

	mfaAuthenticated string // sessionContext.attributes.mfaAuthenticated
}

// SessionIssuer is sessionContext.sessionIssuer: the role or user whose
// credentials were issued.
type SessionIssuer struct {
	Type        string
	PrincipalID string
	ARN         string
	AccountID   string
	UserName    string
}

// Identity types as CloudTrail writes them in userIdentity.type.
const (
	IdentityRoot            = "Root"
	IdentityIAMUser         = "IAMUser"
	IdentityAssumedRole     = "AssumedRole"
	IdentityFederatedUser   = "FederatedUser"
	IdentitySAMLUser        = "SAMLUser"
	IdentityWebIdentityUser = "WebIdentityUser"
	IdentityAWSService      = "AWSService"
	IdentityAWSAccount      = "AWSAccount"
	IdentityCenterUser      = "IdentityCenterUser"
	IdentityUnknown         = "Unknown"
)

// Hidden is CloudTrail's mask for a user name it will not record (a failed
// sign-in with a name that matches no user). It is kept as the actor.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// ssoRolePrefix starts the name of every role IAM Identity Center creates for
// a permission set: AWSReservedSSO_<PermissionSetName>_<hash>.
const ssoRolePrefix = "AWSReservedSSO_"

// Actor returns the user name of the event per the rules on [Identity]. id
// may be nil (a record without userIdentity); source is the record's
// eventSource and signInName its additionalEventData.UserName (may be "").
func (id *Identity) Actor(source, signInName string) string {
	if name := id.actor(source, signInName); name != "" {
		return name
	}
	return "unknown"
}

func (id *Identity) actor(source, signInName string) string {
	if id == nil {
		return source
	}
	if id.UserName == Hidden || signInName == Hidden {
		return Hidden
	}
	switch id.Type {
	case IdentityRoot:
		return "root"
	case IdentityIAMUser:
		return first(id.UserName, arnName(id.ARN, "user/"), id.PrincipalID)
	case IdentityAssumedRole:
		return id.assumedRole()
	case IdentityFederatedUser:
		name := first(arnName(id.ARN, "federated-user/"), afterColon(id.PrincipalID), id.UserName)
		if id.Issuer.UserName != "" && name != "" {
			return id.Issuer.UserName + "/" + name
		}
		return first(name, id.PrincipalID)
	case IdentitySAMLUser:
		return first(id.UserName, id.PrincipalID)
	case IdentityWebIdentityUser:
		if id.IdentityProvider != "" && id.UserName != "" {
			return id.IdentityProvider + ":" + id.UserName
		}
		return first(id.PrincipalID, id.UserName)
	case IdentityAWSService:
		return first(id.InvokedBy, id.PrincipalID, source)
	case IdentityAWSAccount:
		switch {
		case id.AccountID != "" && id.PrincipalID != "":
			return id.AccountID + "/" + id.PrincipalID
		default:
			return first(id.AccountID, id.PrincipalID, id.InvokedBy)
		}
	case IdentityCenterUser:
		return first(signInName, id.UserName, id.onBehalfOfUser(), id.PrincipalID)
	case IdentityUnknown:
		name := first(signInName, id.UserName, id.onBehalfOfUser())
		if name != "" {
			return name
		}
		if strings.Contains(id.ARN, ":assumed-role/") {
			return id.assumedRole()
		}
		return first(arnName(id.ARN, "user/"), id.PrincipalID, id.AccountID)
	default:
		return first(signInName, id.UserName, arnLast(id.ARN), id.PrincipalID, id.InvokedBy, id.AccountID)
	}
}

// assumedRole names an assumed-role session "role/session", or the session
// alone for an Identity Center role.
func (id *Identity) assumedRole() string {
	var role, session string
	// arn:aws:sts::<account>:assumed-role/<role>/<session>
	if rest, ok := cutAfter(id.ARN, ":assumed-role/"); ok {
		role, session, _ = strings.Cut(rest, "/")
	}
	if id.Issuer.UserName != "" {
		role = id.Issuer.UserName
	}
	if session == "" {
		session = afterColon(id.PrincipalID)
	}
	switch {
	case strings.HasPrefix(role, ssoRolePrefix) && session != "":
		return session
	case role != "" && session != "":
		return role + "/" + session
	default:
		return first(role, session, id.PrincipalID)
	}
}

func (id *Identity) onBehalfOfUser() string { return id.OnBehalfOfUserID }

// PermissionSet returns the permission set name of an IAM Identity Center
// role ARN or name (AWSReservedSSO_<name>_<hash>), or "".
func PermissionSet(roleARNOrName string) string {
	i := strings.Index(roleARNOrName, ssoRolePrefix)
	if i < 0 {
		return ""
	}
	rest := roleARNOrName[i+len(ssoRolePrefix):]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	if j := strings.LastIndexByte(rest, '_'); j > 0 {
		rest = rest[:j]
	}
	return rest
}

// first returns the first non-empty string.
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// arnName returns the last path element of an ARN whose resource starts with
// kind ("user/", "federated-user/"), or "".
func arnName(arn, kind string) string {
	rest, ok := cutAfter(arn, ":"+kind)
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}

// arnLast returns what follows the last '/' (else ':') of an ARN.
func arnLast(arn string) string {
	if arn == "" {
		return ""
	}
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

func cutAfter(s, sep string) (string, bool) {
	i := strings.Index(s, sep)
	if i < 0 {
		return "", false
	}
	return s[i+len(sep):], true
}

// afterColon returns what follows the first ':' of a principal ID
// ("AROA…:session", "account:name"), or "".
func afterColon(s string) string {
	_, after, _ := strings.Cut(s, ":")
	return after
}
