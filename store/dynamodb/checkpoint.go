package dynamodb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
)

// Checkpoint returns the checkpoint for key (consistent read), or a zero
// Checkpoint with Key set and ok false.
func (s *Store) Checkpoint(ctx context.Context, key string) (iamwatch.Checkpoint, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.t.Control), Key: item{"key": sv(key)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return iamwatch.Checkpoint{Key: key}, false, fmt.Errorf("dynamodb: checkpoint %s: %w", key, err)
	}
	if out.Item == nil {
		return iamwatch.Checkpoint{Key: key}, false, nil
	}
	cp, err := checkpointFromItem(out.Item)
	if err != nil {
		return iamwatch.Checkpoint{Key: key}, false, fmt.Errorf("dynamodb: %w", err)
	}
	return cp, true, nil
}

// PutCheckpoint writes cp, replacing any checkpoint of its key.
func (s *Store) PutCheckpoint(ctx context.Context, cp iamwatch.Checkpoint) error {
	if cp.Key == "" {
		return fmt.Errorf("dynamodb: put checkpoint: empty key")
	}
	it := item{"key": sv(cp.Key)}
	setS(it, "position", cp.Position)
	setMillis(it, "event_time", cp.EventTime)
	setMillis(it, "last_run", cp.LastRun)
	setN(it, "processed", cp.Processed)
	setS(it, "status", cp.Status)
	setS(it, "last_error", cp.LastError)
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.t.Control), Item: it}); err != nil {
		return fmt.Errorf("dynamodb: put checkpoint %s: %w", cp.Key, err)
	}
	return nil
}

// Checkpoints returns every checkpoint, by key.
func (s *Store) Checkpoints(ctx context.Context) ([]iamwatch.Checkpoint, error) {
	items, err := s.scanAll(ctx, s.t.Control, "", "", nil, nil)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: checkpoints: %w", err)
	}
	out := make([]iamwatch.Checkpoint, 0, len(items))
	for _, it := range items {
		if strings.HasPrefix(getS(it, "key"), baselinePrefix) {
			continue // a baseline (baseline.go), not a checkpoint
		}
		cp, err := checkpointFromItem(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: checkpoints: %w", err)
		}
		out = append(out, cp)
	}
	slices.SortFunc(out, func(a, b iamwatch.Checkpoint) int { return cmp.Compare(a.Key, b.Key) })
	return out, nil
}

func checkpointFromItem(it item) (iamwatch.Checkpoint, error) {
	cp := iamwatch.Checkpoint{
		Key: getS(it, "key"), Position: getS(it, "position"), Status: getS(it, "status"), LastError: getS(it, "last_error"),
	}
	var err error
	if cp.EventTime, err = getMillis(it, "event_time"); err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", cp.Key, err)
	}
	if cp.LastRun, err = getMillis(it, "last_run"); err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", cp.Key, err)
	}
	if cp.Processed, err = getN(it, "processed"); err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", cp.Key, err)
	}
	return cp, nil
}
