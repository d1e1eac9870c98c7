package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/iamwatch/iamwatch/geoip"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/config"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

func newConfigCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration file",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Check a configuration file; name the line of every mistake",
		Long: `Validate reads FILE as iamwatch run would (unknown keys and wrong types are
mistakes, as are values out of range) and prints every mistake with its line,
FILE:LINE: path: message, one a line. It exits 0 when the file is valid, 1 when not.
Environment variables are not applied: the file is checked as written.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("config validate takes one FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			cfg, err := config.Parse(f, args[0])
			if err == nil {
				err = checkConfig(cmd.Context(), cfg)
			}
			if err != nil {
				for _, e1 := range unjoinErr(err) {
					fmt.Fprintln(e.stdout, untrusted.Terminal(e1.Error()))
				}
				return &exitCodeError{code: exitError, err: errors.New(args[0] + ": invalid")}
			}
			fmt.Fprintf(e.stdout, "%s: ok\n", args[0])
			return nil
		},
	})
	return cmd
}

// checkConfig is the check of a parsed configuration that every command
// reading one runs after config.Parse (config validate, scan, run, the
// rules commands), so that what validate accepts the others accept too:
// the rule folders load and the detection settings fit the rules
// (detect.Config.Check), and every notification sink is accepted by its
// builder (known type, known settings, required ones present), secret
// references left unread. Each mistake is a *config.Error with its line.
func checkConfig(ctx context.Context, cfg *config.Config) error {
	var errs []error
	if rs, err := loadRules(cfg.Rules); err != nil {
		errs = append(errs, cfg.ErrorAt("rules", err))
	} else if err := cfg.Detection.Check(rs); err != nil {
		for _, e1 := range unjoinErr(err) {
			var ce *detect.ConfigError
			if errors.As(e1, &ce) {
				errs = append(errs, cfg.ErrorAt("detection."+ce.Path, errors.New(ce.Msg)))
			} else {
				errs = append(errs, cfg.ErrorAt("detection", e1))
			}
		}
	}
	if len(cfg.Detection.GeoIP) > 0 {
		if db, err := geoip.Open(cfg.Detection.GeoIP...); err != nil {
			errs = append(errs, cfg.ErrorAt("detection.geoip", err))
		} else {
			db.Close()
		}
	}
	builders := sinkBuilders(aws.Config{})
	deps := notify.Deps{Secrets: &notify.Resolver{Placeholder: notify.CheckPlaceholder}}
	for _, name := range cfg.Notify.SinkNames() {
		sc := cfg.Notify.Sinks[name]
		b := builders[sc.Type]
		if b == nil {
			errs = append(errs, cfg.ErrorAt("notify.sinks."+name+".type", fmt.Errorf("unknown sink type %q (one of %s)", sc.Type, strings.Join(slices.Sorted(maps.Keys(builders)), ", "))))
			continue
		}
		if _, err := b(ctx, name, sc.Settings, deps); err != nil {
			errs = append(errs, cfg.ErrorAt("notify.sinks."+name, err))
		}
	}
	slices.SortStableFunc(errs, func(a, b error) int { return lineOf(a) - lineOf(b) })
	return errors.Join(errs...)
}

// lineOf is the configuration line an error names (0 for none).
func lineOf(err error) int {
	var ce *config.Error
	if errors.As(err, &ce) {
		return ce.Line
	}
	return 0
}

func unjoinErr(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
