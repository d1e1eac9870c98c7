package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// triageFlags set an alert's triage state from `iamwatch alerts`.
type triageFlags struct {
	key, status, note string
}

func (f *triageFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&f.key, "triage", "", "set the triage state of the alert with this dedup key (with --status, --note) instead of listing")
	fl.StringVar(&f.status, "status", "", "with --triage: open, acknowledged, resolved or false_positive")
	fl.StringVar(&f.note, "note", "", "with --triage: a note kept with the state")
}

// setTriage stores the triage state f asks for, by $USER (else "cli").
func (e *env) setTriage(ctx context.Context, db string, f triageFlags) error {
	if f.status == "" {
		return usageErrorf("--triage needs --status (open, acknowledged, resolved or false_positive)")
	}
	status, err := iamwatch.ParseTriageStatus(f.status)
	if err != nil {
		return usageErrorf("--status: %v", err)
	}
	by := e.getenv("USER")
	if by == "" {
		by = "cli"
	}
	t := iamwatch.Triage{AlertKey: f.key, Status: status, By: by, At: e.now(), Note: f.note}
	if err := t.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	st, err := e.openHistory(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.SetTriage(ctx, t); err != nil {
		if errors.Is(err, sqlite.ErrNotFound) {
			return fmt.Errorf("no alert with dedup key %q", f.key)
		}
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s: %s by %s\n", f.key, status, by)
	return err
}

// triageOf is the state of the alert with key in ts: open when unset.
func triageOf(ts map[string]iamwatch.Triage, key string) iamwatch.Triage {
	if t, ok := ts[key]; ok {
		return t
	}
	return iamwatch.Triage{AlertKey: key, Status: iamwatch.TriageOpen}
}
