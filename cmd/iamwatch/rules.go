package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/config"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/untrusted"
)

// rulesFlags are shared by the rules subcommands.
type rulesFlags struct {
	dirs   []string // --rules: extra rule folders laid over the catalog
	config string   // --config: a configuration file whose detection section applies
}

func (f *rulesFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringSliceVar(&f.dirs, "rules", nil, "a folder of extra rule files laid over the built-ins (repeatable)")
	cmd.Flags().StringVar(&f.config, "config", "", "a configuration file: its rule folders and detection settings apply")
}

// load returns the catalog with the configuration's folders, then --rules,
// then extra (positional DIRs), laid over it, and the detection settings.
func (f *rulesFlags) load(extra []string) ([]*detect.Rule, detect.Config, error) {
	var cfg detect.Config
	dirs := slices.Clone(f.dirs)
	if f.config != "" {
		fh, err := os.Open(f.config)
		if err != nil {
			return nil, cfg, err
		}
		defer fh.Close()
		c, err := config.Parse(fh, f.config)
		if err != nil {
			return nil, cfg, err
		}
		if err := checkConfig(context.Background(), c); err != nil {
			return nil, cfg, err
		}
		cfg = c.Detection
		dirs = append(slices.Clone(c.Rules), dirs...)
	}
	rs, err := loadRules(append(dirs, extra...))
	return rs, cfg, err
}

func newRulesCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, show, test and validate detection rules",
		Long: `The detection rules: the built-in catalog, with any folders given by --rules
(or the configuration's rules:) laid over it; a rule file with a built-in's id
replaces the built-in.`,
	}
	cmd.AddCommand(newRulesListCmd(e), newRulesShowCmd(e), newRulesTestCmd(e), newRulesValidateCmd(e))
	return cmd
}

func newRulesListCmd(e *env) *cobra.Command {
	var f rulesFlags
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the rules: id, severity, title, where each comes from",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if output != "text" && output != "json" {
				return usageErrorf("--output must be text or json")
			}
			rs, cfg, err := f.load(nil)
			if err != nil {
				return err
			}
			disabled := disabledSet(cfg)
			if output == "json" {
				for _, r := range rs {
					m := map[string]any{
						"id": r.ID, "severity": r.Severity, "title": r.Title, "file": r.File,
						"threshold": r.Threshold != nil, "tests": len(r.Tests), "enabled": !disabled[r.ID],
					}
					if r.Baseline != nil {
						m["baseline"] = true
					}
					if r.Travel != nil {
						m["travel"] = true
					}
					if off := geoOff(r, cfg); off != "" {
						m["off"] = off
					}
					writeJSONLine(e.stdout, m)
				}
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE\tFILE")
			for _, r := range rs {
				id := r.ID
				if disabled[r.ID] {
					id += " (disabled)"
				} else if geoOff(r, cfg) != "" {
					id += " (off: no GeoIP database)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", untrusted.Terminal(id), r.Severity, untrusted.Terminal(r.Title), untrusted.Terminal(r.File))
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&output, "output", "text", "text or json (one object a line)")
	return cmd
}

// geoOff says why r is off under cfg: a first-seen rule over country or
// ASN, or an impossible-travel rule, with no GeoIP database configured; ""
// when it is on.
func geoOff(r *detect.Rule, cfg detect.Config) string {
	if r.NeedsGeo() && len(cfg.GeoIP) == 0 && cfg.Geo == nil {
		return detect.SkipNoGeoIP
	}
	return ""
}

func disabledSet(cfg detect.Config) map[string]bool {
	m := map[string]bool{}
	for _, id := range cfg.Disabled {
		m[id] = true
	}
	for id, rc := range cfg.Rules {
		if rc.Disabled {
			m[id] = true
		}
	}
	return m
}

func newRulesShowCmd(e *env) *cobra.Command {
	var f rulesFlags
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one rule: what it matches, its summary, action, tests and EventBridge pattern",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("rules show takes one rule ID")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			rs, _, err := f.load(nil)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(rs, func(r *detect.Rule) bool { return r.ID == args[0] })
			if i < 0 {
				return usageErrorf("no rule %q (see iamwatch rules list)", args[0])
			}
			return showRule(e, rs[i])
		},
	}
	f.register(cmd)
	return cmd
}

func showRule(e *env, r *detect.Rule) error {
	w := &strings.Builder{}
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-12s %s\n", k+":", v)
		}
	}
	line("id", r.ID)
	line("title", r.Title)
	line("severity", r.Severity.String())
	line("file", r.File)
	line("description", r.Description)
	line("references", strings.Join(r.References, "; "))
	line("tags", strings.Join(r.Tags, ", "))
	match, err := json.MarshalIndent(r.Match, "             ", "  ")
	if err != nil {
		return err
	}
	line("match", string(match))
	line("condition", r.Condition)
	if t := r.Threshold; t != nil {
		by := strings.Join(t.By, ", ")
		if t.Group != "" {
			by = t.Group
		}
		period := detect.DefaultPeriod.String()
		if r.Dedup != nil {
			period = r.Dedup.Period.String()
		}
		line("threshold", fmt.Sprintf("%d events within %s, grouped by %s; one alert per group per %s", t.Count, t.Within, by, period))
	} else if d := r.Dedup; d != nil {
		line("dedup", fmt.Sprintf("one alert per %s per %s", strings.Join(d.Fields, ", "), d.Period))
	}
	if len(r.Escalate) > 0 {
		steps := make([]string, len(r.Escalate))
		for i, e := range r.Escalate {
			steps[i] = fmt.Sprintf("%s from %d events", e.Severity, e.Count)
		}
		line("escalate", strings.Join(steps, "; ")+" (each sink is told again at each step)")
	}
	line("supersedes", strings.Join(r.Supersedes, ", "))
	if r.Services != "" {
		line("services", string(r.Services))
	}
	if r.Delivery != "" {
		line("delivery", string(r.Delivery))
	}
	line("summary", r.Summary)
	line("action", r.Action)
	var tests []string
	for _, t := range r.Tests {
		tests = append(tests, fmt.Sprintf("%s (%s)", t.Name, t.Expect))
	}
	line("tests", strings.Join(tests, "; "))
	eb, err := json.Marshal(r.EventBridgePattern())
	if err != nil {
		return err
	}
	line("eventbridge", string(eb))
	_, err = fmt.Fprint(e.stdout, untrusted.TerminalLines(w.String()))
	return err
}

func newRulesTestCmd(e *env) *cobra.Command {
	var f rulesFlags
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [DIR...]",
		Short: "Run the inline tests of every rule, built-in and in DIR",
		Long: `Test runs the tests written in each rule file (tests:) against that rule: the
built-in catalog and the rules of each DIR and --rules folder. A failure names
the rule, the test, the file and line, the reason and the event. It exits 0
when every test passes, 1 when one fails.

Test events locate their source IPs with the sample GeoIP database (the
documentation ranges 198.51.100.0/24, 203.0.113.0/24, 192.0.2.0/24 and
2001:db8::/32; see geoip/internal/gentestdb), whatever detection.geoip says:
a rule's tests must not depend on the database a user installed.`,
		RunE: func(_ *cobra.Command, args []string) error {
			rs, cfg, err := f.load(args)
			if err != nil {
				return err
			}
			cfg.GeoIP = nil
			closeGeo, err := openGeo(&cfg, true)
			if err != nil {
				return err
			}
			defer closeGeo()
			results := detect.RunTests(rs, cfg)
			failed := 0
			for _, r := range results {
				if !r.Passed {
					failed++
				}
				if !r.Passed || verbose {
					fmt.Fprintln(e.stdout, untrusted.TerminalLines(r.String()))
				}
			}
			fmt.Fprintf(e.stdout, "%d rules, %d tests, %d failed\n", len(rs), len(results), failed)
			if failed > 0 {
				return &exitCodeError{code: exitError, err: fmt.Errorf("%d rule tests failed", failed)}
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list passing tests too")
	return cmd
}

func newRulesValidateCmd(e *env) *cobra.Command {
	var f rulesFlags
	cmd := &cobra.Command{
		Use:   "validate [DIR...]",
		Short: "Check rule files (and the detection settings of --config); name the line of every mistake",
		Long: `Validate loads the built-in catalog with each DIR and --rules folder laid over
it, and builds the rule engine with the detection settings of --config. Every
mistake is printed as FILE:LINE: reason, one a line. It exits 0 when all is
valid, 1 when not.`,
		RunE: func(_ *cobra.Command, args []string) error {
			rs, cfg, err := f.load(args)
			if err == nil {
				_, err = detect.New(rs, cfg)
			}
			if err != nil {
				for _, e1 := range unjoinErr(err) {
					fmt.Fprintln(e.stdout, untrusted.Terminal(e1.Error()))
				}
				return &exitCodeError{code: exitError, err: errors.New("rules: invalid")}
			}
			fmt.Fprintf(e.stdout, "%d rules: ok\n", len(rs))
			return nil
		},
	}
	f.register(cmd)
	return cmd
}
