package cloudtrail

import (
	"bytes"
	"strings"

	"github.com/iamwatch/iamwatch"
)

// TypeOf returns the event type of an eventSource: iam, sts, signin, sso
// (IAM Identity Center: sso, sso-directory, identitystore, sso-oauth) or
// other.
func TypeOf(eventSource string) iamwatch.EventType {
	switch eventSource {
	case "iam.amazonaws.com":
		return iamwatch.TypeIAM
	case "sts.amazonaws.com":
		return iamwatch.TypeSTS
	case "signin.amazonaws.com":
		return iamwatch.TypeSignin
	case "sso.amazonaws.com", "sso-directory.amazonaws.com", "identitystore.amazonaws.com", "sso-oauth.amazonaws.com":
		return iamwatch.TypeSSO
	}
	return iamwatch.TypeOther
}

func isAssumeRole(name string) bool {
	switch name {
	case "AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
		return true
	}
	return false
}

// federated reports whether a console sign-in of this identity type is a
// federated one: a role session or federated user signing in through SAML
// (additionalEventData.SamlProviderArn), IAM Identity Center, a web identity
// or a federation broker (GetSigninToken). AWS records MFAUsed "No" for all of
// them because it asks for no MFA itself; whether the person used MFA is
// known only to the identity provider. Such a "No" (and a session's
// mfaAuthenticated "false") is therefore not evidence, and mfa_used stays
// empty unless the record says "yes".
func federated(identityType string) bool {
	switch identityType {
	case IdentityAssumedRole, IdentityFederatedUser, IdentitySAMLUser, IdentityWebIdentityUser:
		return true
	}
	return false
}

// yesNo normalises MFAUsed ("Yes", "YES", "no") and mfaAuthenticated
// ("true", "false") to "yes", "no" or "".
func yesNo(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true":
		return "yes"
	case "no", "false":
		return "no"
	}
	return ""
}

func trueFalse(s string) string {
	switch strings.ToLower(s) {
	case "true":
		return "true"
	case "false":
		return "false"
	}
	return ""
}

// peekEventID finds `"eventID":"…"` in bytes that may not be JSON, so that a
// bad record can still be named. It returns "" when there is none.
func peekEventID(b []byte) string {
	const key = `"eventID"`
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(b[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 || end > 128 {
		return ""
	}
	return string(rest[1 : 1+end])
}

// serviceLinked reports whether a session issuer's ARN is a service-linked
// role's: IAM gives those, and only those, the path /aws-service-role/
// (arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig).
func serviceLinked(issuerARN string) bool {
	return strings.Contains(issuerARN, ":role/aws-service-role/")
}
