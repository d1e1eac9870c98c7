package iamwatch

// ServiceActor reports whether an AWS service made the call on its own
// authority: nobody's credentials but the service's are behind it, so no
// person or workload of the account is the actor. That is, by the decoded
// identity (see cloudtrail.Identity):
//
//   - userIdentity.type AWSService (a service principal such as
//     delivery.logs.amazonaws.com writing logs, or ec2.amazonaws.com
//     assuming an instance role); or
//   - no userIdentity.type, no ARN, and nothing but the service naming the
//     actor: a record without userIdentity (the actor is then the
//     eventSource), or one whose userIdentity holds only an accountId and
//     invokedBy (service events such as KMS key rotation or Secrets Manager
//     version deletion, invokedBy a service or "AWS Internal").
//
// It is false for everything else, in particular for a call a service made
// with a principal's credentials (invokedBy set on an IAMUser or
// AssumedRole identity: CloudFormation creating a user for the person who
// ran the stack acts with that person's authority), for IAM Identity Center
// sign-in events (eventType AwsServiceEvent, userIdentity type Unknown
// naming the person), and for service-linked role sessions (AssumedRole;
// see detect's Services for how rules treat them).
func (e *Event) ServiceActor() bool {
	switch e.IdentityType {
	case "AWSService":
		return true
	case "":
		if e.PrincipalARN != "" {
			return false
		}
		// The decoder names a record without userIdentity by its
		// eventSource, and one with only accountId and invokedBy by the
		// invokedBy; any other name came from userName or principalId.
		return (e.InvokedBy != "" && e.UserName == e.InvokedBy) || (e.InvokedBy == "" && e.UserName == e.Source && e.Source != "")
	}
	return false
}

// ServiceLinkedRead reports whether a service-linked role's session made a
// read-only call, other than assuming a role: AWS Config, Access Analyzer,
// Inspector or Trusted Advisor listing roles and reading policies to
// describe the account. Only the role's service can assume it, so no person
// of the account chose the call, and a read changes nothing (on the
// generated services trail, 6.3k of the 20.9k events a default scan
// stored before they were left out). A service-linked role's
// writes (IAM Identity Center creating roles in an account) and its
// AssumeRole calls are not reads in this sense. False when the record does
// not say it is read-only.
func (e *Event) ServiceLinkedRead() bool {
	return e.ServiceLinkedRole && e.ReadOnly == "true" && e.TargetRole == ""
}
