package detect

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// instanceCall is name called at t0+at from ip with the credentials of
// session (web-role's session named after an instance, with
// ec2RoleDelivery unless person), and extra top-level members.
func instanceCall(t testing.TB, id, session, ip, name string, at time.Duration, person bool, extra string) iamwatch.Event {
	t.Helper()
	delivery := `,"ec2RoleDelivery":"2.0"`
	if person {
		delivery = ""
	}
	return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAQ3XV7MBT2ROLEEXAMPLE:%[1]s",
	"arn":"arn:aws:sts::111122223333:assumed-role/web-role/%[1]s","accountId":"111122223333","accessKeyId":"ASIAQ3XV7MBTINSTANCE",
	"sessionContext":{"sessionIssuer":{"type":"Role","userName":"web-role"},"attributes":{"mfaAuthenticated":"false"}%[2]s}},
	"eventTime":%[3]q,"eventSource":"ssm.amazonaws.com","eventName":%[4]q,"awsRegion":"us-east-1","sourceIPAddress":%[5]q,
	"userAgent":"aws-sdk-go/1.55.5 amazon-ssm-agent/3.3.1142.0","requestParameters":null,"responseElements":null,"eventID":%[6]q,
	"readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"%[7]s}`,
		session, delivery, t0.Add(at).Format(time.RFC3339), name, ip, id, extra))
}

// instanceRules is an engine of the built-in rules about instance
// credentials (those with a threshold or a sequence), light as compiled
// or, with parsed, forced to read the record as before the decoder carried
// ec2RoleDelivery and vpcEndpointId.
func instanceRules(t *testing.T, parsed bool) *Engine {
	t.Helper()
	all, err := LoadFSForEngine(os.DirFS("../rules"), ".")
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"instance-credentials-new-network", "instance-credentials-stolen", "instance-credentials-discovery"}
	rs := slices.DeleteFunc(all, func(r *Rule) bool { return !slices.Contains(ids, r.ID) })
	e := mustEngine(t, rs, Config{})
	if len(e.rules) != len(ids) {
		t.Fatalf("%d rules, want %v", len(e.rules), ids)
	}
	for _, c := range e.rules {
		if !c.light {
			t.Fatalf("%s is not light", c.rule.ID)
		}
		c.light = !parsed
	}
	e.light = !parsed
	return e
}

// TestInstanceRulesLight: the instance-credential rules are decided on the
// decoded fields (ec2RoleDelivery and vpcEndpointId among them). Over an
// instance whose agent calls every five minutes, a command sent from an
// operator's address and the instance's credentials used from there, they
// raise exactly the alerts they raise reading every record, in any order
// and batching, and keep a few of the agent's calls instead of all.
func TestInstanceRulesLight(t *testing.T) {
	const (
		inst     = "i-0123456789abcdef0"
		own      = "203.0.113.10"
		operator = "198.51.100.7"
	)
	var evs []iamwatch.Event
	for i := range 36 { // three hours of the agent, and a call through a VPC endpoint beside each
		at := time.Duration(i) * 5 * time.Minute
		evs = append(evs,
			instanceCall(t, fmt.Sprintf("agent-%d", i), inst, own, "UpdateInstanceInformation", at, false, ""),
			instanceCall(t, fmt.Sprintf("vpce-%d", i), inst, "10.0.1.25", "ListInstanceAssociations", at+time.Minute, false, `,"vpcEndpointId":"vpce-0a1b2c3d4e5f6a7b8"`))
	}
	// A person's session named like an instance, from two addresses: neither rule.
	evs = append(evs,
		instanceCall(t, "person-1", inst, "192.0.2.1", "ListInstanceAssociations", 10*time.Minute, true, ""),
		instanceCall(t, "person-2", inst, "192.0.2.2", "ListInstanceAssociations", 11*time.Minute, true, ""))
	// The operator sends a command, then uses the instance's credentials.
	cmd := ssmCall(t, "command", operator, "SendCommand", 90*time.Minute)
	evs = append(evs, cmd, instanceCall(t, "stolen", inst, operator, "GetCallerIdentity", 91*time.Minute, false, ""))

	light, parsed := instanceRules(t, false), instanceRules(t, true)
	want := firedKeys(t, parsed, NewMemoryState(), evs)
	ref := NewMemoryState()
	if got := firedKeys(t, light, ref, evs); !slices.Equal(got, want) || len(want) != 2 {
		t.Fatalf("light rules fired %q, the parsed ones %q: want the same two alerts", got, want)
	}
	for _, a := range stored(t, ref) {
		if !slices.Contains(a.EventIDs, "stolen") {
			t.Errorf("%s lists %v, want the call from the operator's address", a.Rule, a.EventIDs)
		}
	}
	sameInSplits(t, light, evs, 0, 4, fmt.Sprint(stored(t, ref)))

	kept := func(e *Engine) (n int) {
		b, err := e.Match(context.Background(), evs)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range b.Keep {
			if k {
				n++
			}
		}
		return n
	}
	if l, p := kept(light), kept(parsed); l*4 > p || l < 3 {
		t.Errorf("light rules keep %d of %d events, the parsed ones %d: want the alerts' events and under a quarter", l, len(evs), p)
	}
}
