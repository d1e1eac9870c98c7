package pipeline

import (
	"fmt"
	"path"
	"strings"

	"github.com/iamwatch/iamwatch"
)

// Keep says which events are stored. Detection sees every event whatever the
// store keeps, and an event that raises an alert is always stored.
type Keep string

// The keep policies.
const (
	KeepIdentity Keep = "identity" // iam, sts, signin and sso events (the default).
	KeepAll      Keep = "all"      // every event.
)

// ParseKeep accepts "identity" or "all".
func ParseKeep(s string) (Keep, error) {
	switch k := Keep(strings.ToLower(s)); k {
	case KeepIdentity, KeepAll:
		return k, nil
	case "":
		return KeepIdentity, nil
	}
	return "", fmt.Errorf("unknown keep policy %q (want identity or all)", s)
}

// Filter decides which events are stored. The zero value keeps identity
// events, service-originated ones included.
type Filter struct {
	Keep Keep
	// DropServiceEvents drops, unless Keep is all, events an AWS service
	// made on its own (iamwatch.Event.ServiceActor: userIdentity
	// AWSService, or a record naming only the service) and the read-only
	// calls of service-linked roles (iamwatch.Event.ServiceLinkedRead: AWS
	// Config and its like reading IAM to describe the account). Service
	// events that name a person are kept: IAM Identity Center sign-ins
	// (signin.amazonaws.com CredentialChallenge, CredentialVerification,
	// UserAuthentication…) have eventType AwsServiceEvent and are the only
	// record of who signed in to the access portal; so are what a
	// service-linked role changes.
	DropServiceEvents bool
	// IgnoreRoles are path.Match patterns of role names (e.g. "scanner-*")
	// whose assumed-role sessions are not stored, unless Keep is all.
	IgnoreRoles []string
}

// Validate checks the patterns.
func (f Filter) Validate() error {
	if _, err := ParseKeep(string(f.Keep)); err != nil {
		return err
	}
	for _, p := range f.IgnoreRoles {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("ignore role pattern %q: %w", p, err)
		}
	}
	return nil
}

// Stores reports whether ev is to be stored (before the "raised an alert" rule).
func (f Filter) Stores(ev *iamwatch.Event) bool {
	if f.Keep == KeepAll {
		return true
	}
	if !ev.Type.IsIdentity() {
		return false
	}
	if f.DropServiceEvents && (ev.ServiceActor() || ev.ServiceLinkedRead()) {
		return false
	}
	if len(f.IgnoreRoles) > 0 && ev.IdentityType == "AssumedRole" {
		role := roleName(ev.PrincipalARN)
		for _, p := range f.IgnoreRoles {
			if ok, _ := path.Match(p, role); ok {
				return false
			}
		}
	}
	return true
}

// roleName returns the role of an assumed-role ARN
// (arn:aws:sts::111122223333:assumed-role/ROLE/session), or "".
func roleName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":assumed-role/")
	if !ok {
		return ""
	}
	role, _, _ := strings.Cut(rest, "/")
	return role
}
