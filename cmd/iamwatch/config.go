package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/config"
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
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := config.Parse(f, args[0]); err != nil {
				for _, e1 := range unjoinErr(err) {
					fmt.Fprintln(e.stdout, safeText(e1.Error()))
				}
				return &exitCodeError{code: exitError, err: errors.New(args[0] + ": invalid")}
			}
			fmt.Fprintf(e.stdout, "%s: ok\n", args[0])
			return nil
		},
	})
	return cmd
}

func unjoinErr(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
