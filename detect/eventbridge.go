package detect

import (
	"maps"
	"slices"
	"strings"
)

// EventBridgePattern returns the EventBridge rule pattern that delivers the
// events this rule may match: source (aws.<service> from the eventSource
// values of the match), detail-type ("AWS API Call via CloudTrail", and
// "AWS Console Sign In via CloudTrail" for sign-in events, "AWS Service Event
// via CloudTrail" when the match names eventType AwsServiceEvent, as IAM
// Identity Center's sign-in steps are) and detail (the
// match itself). When the match names no eventSource, source is left out
// (every service). Conditions and thresholds are not expressed: the pattern
// delivers a superset, the engine decides.
func (r *Rule) EventBridgePattern() map[string]any {
	p := map[string]any{"detail": r.Match}
	if srcs, ok := r.pattern.exactStrings("eventSource"); ok {
		var sources []any
		signin := false
		for _, s := range srcs {
			svc := strings.TrimSuffix(s, ".amazonaws.com")
			if svc == "signin" {
				signin = true
			}
			if !slices.Contains(sources, any("aws."+svc)) {
				sources = append(sources, "aws."+svc)
			}
		}
		p["source"] = sources
		types := []any{"AWS API Call via CloudTrail"}
		if signin {
			types = append(types, "AWS Console Sign In via CloudTrail")
		}
		if ets, ok := r.pattern.exactStrings("eventType"); ok && slices.Contains(ets, "AwsServiceEvent") {
			types = append(types, "AWS Service Event via CloudTrail")
		}
		p["detail-type"] = types
	} else {
		p["detail-type"] = []any{"AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Service Event via CloudTrail"}
	}
	return maps.Clone(p)
}
