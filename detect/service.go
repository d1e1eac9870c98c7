package detect

import (
	"fmt"
	"strings"

	"github.com/iamwatch/iamwatch"
)

// Services says which events a rule evaluates when AWS itself is the actor
// (the rule field `services:`). Most rules are about what people and their
// workloads do; an AWS service doing its job is not news, and on a real trail
// it is most of the noise (a log-delivery service denied PutObject on a
// misconfigured bucket ten thousand times in four days made 403 of 425
// alerts).
//
// Two kinds of event involve a service:
//
//   - A service actor ([iamwatch.Event.ServiceActor]): the service acts on its
//     own authority, userIdentity.type AWSService, or a record whose
//     userIdentity names only the service (invokedBy) or is absent.
//   - A service-invoked call: a service made the call with a principal's
//     credentials, userIdentity.invokedBy set on an IAMUser, AssumedRole, …
//     identity (CloudFormation creating a user for whoever ran the stack,
//     Secrets Manager calling KMS for the caller, "AWS Internal"). The
//     principal's authority is behind the call, so a change made this way is
//     the principal's change. invokedBy signin.amazonaws.com is the console
//     acting for the person signed in and is never counted as a service.
//
// The zero value is ServicesExclude.
type Services string

// The values of `services:`.
const (
	// ServicesExclude (the default) skips service actors: the rule is about
	// people. Service-invoked calls are evaluated as the principal's.
	ServicesExclude Services = "exclude"
	// ServicesExcludeInvoked skips service actors and service-invoked calls:
	// for rules that count what a principal does itself, such as denied
	// calls, where a service's own retries and probes with a principal's
	// credentials say nothing about that principal.
	ServicesExcludeInvoked Services = "exclude-invoked"
	// ServicesInclude evaluates every event, whoever the actor: for rules
	// whose outcome matters whoever causes it (logging stopped).
	ServicesInclude Services = "include"
)

func parseServices(s string) (Services, error) {
	switch v := Services(s); v {
	case ServicesExclude, ServicesExcludeInvoked, ServicesInclude:
		return v, nil
	}
	return "", fmt.Errorf("%q: want %s, %s or %s", s, ServicesExclude, ServicesExcludeInvoked, ServicesInclude)
}

// serviceInvoked reports whether a service made ev with the credentials of
// the principal in userIdentity (see Services).
func serviceInvoked(ev *iamwatch.Event) bool {
	return ev.InvokedBy != "" && !strings.EqualFold(ev.InvokedBy, "signin.amazonaws.com")
}

// ignoresActor reports whether r skips ev because of who made it, per
// r.Services. The Engine asks before matching, so a skipped event neither
// alerts nor counts towards a threshold.
func (r *Rule) ignoresActor(ev *iamwatch.Event) bool {
	switch r.Services {
	case ServicesInclude:
		return false
	case ServicesExcludeInvoked:
		return ev.ServiceActor() || serviceInvoked(ev)
	}
	return ev.ServiceActor()
}
