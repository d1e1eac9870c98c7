package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// RuleCheckpointPrefix starts the key of the checkpoint that records a
// rule's evaluation failures ("rule/" + rule ID): `iamwatch status` lists
// it beside the sources, so a rule that fails in a daemon or a Lambda is
// seen where the operator already looks.
const RuleCheckpointPrefix = "rule/"

// RuleStatusFailing is the status of a rule's checkpoint.
const RuleStatusFailing = "failing"

// RecordRuleErrors adds errs to each rule's checkpoint: Processed counts
// the events the rule failed on in all, LastError is the latest batch's
// first failure, LastRun is now. Two writers racing may lose a count, never
// the fact that the rule fails.
func RecordRuleErrors(ctx context.Context, cps iamwatch.CheckpointStore, errs []RuleErrors, now time.Time) error {
	for _, e := range errs {
		key := RuleCheckpointPrefix + e.Rule
		cp, _, err := cps.Checkpoint(ctx, key)
		if err != nil {
			return fmt.Errorf("pipeline: rule %s: %w", e.Rule, err)
		}
		cp.Key, cp.Status, cp.LastRun, cp.LastError = key, RuleStatusFailing, now.UTC(), e.First
		cp.Processed += int64(e.Events)
		if err := cps.PutCheckpoint(ctx, cp); err != nil {
			return fmt.Errorf("pipeline: rule %s: %w", e.Rule, err)
		}
	}
	return nil
}
