package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/store/sqlite"
	"github.com/iamwatch/iamwatch/untrusted"
)

func newShowCmd(e *env) *cobra.Command {
	var db string
	cmd := &cobra.Command{
		Use:   "show EVENT_ID",
		Short: "Print one stored event's raw CloudTrail record, pretty",
		Long: `Show prints the raw CloudTrail record of one stored event as indented JSON.

Characters a terminal would act on (control characters, bidirectional
overrides) are written as JSON \u escapes: the output is still the same JSON
value, and safe to print.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return e.show(cmd.Context(), db, args[0]) },
	}
	dbFlag(cmd.Flags(), &db)
	return cmd
}

func (e *env) show(ctx context.Context, dbFlag, id string) error {
	st, err := e.openHistory(ctx, dbFlag)
	if err != nil {
		return err
	}
	defer st.Close()
	ev, err := st.Event(ctx, id)
	if errors.Is(err, sqlite.ErrNotFound) {
		return fmt.Errorf("no event with ID %s in %s (iamwatch events lists them)", untrusted.Terminal(id), st.Path())
	}
	if err != nil {
		return err
	}
	raw := []byte(ev.Raw)
	if len(raw) == 0 {
		// The source kept no raw record: show the stored columns instead.
		row := map[string]any{}
		for _, c := range eventColumnsForShow {
			row[c] = eventColumn(&ev, c)
		}
		if raw, err = json.Marshal(row); err != nil {
			return fmt.Errorf("show %s: %w", id, err)
		}
		fmt.Fprintln(e.stderr, "iamwatch: no raw record stored for this event; showing its columns")
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return fmt.Errorf("show %s: stored record is not JSON: %w", id, err)
	}
	b.WriteByte('\n')
	_, err = e.stdout.Write(untrusted.JSON(b.Bytes()))
	return err
}

var eventColumnsForShow = []string{"event_id", "event_time", "event_source", "event_name", "event_type",
	"user_name", "identity_type", "principal_arn", "account_id", "aws_region", "source_ip", "user_agent",
	"request_parameters", "response_elements", "error_code", "error_message", "mfa_used", "read_only"}
