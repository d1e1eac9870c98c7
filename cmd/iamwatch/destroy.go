package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/deploy/stack"
)

type destroyFlags struct {
	aws     awsFlags
	stack   string
	yes     bool
	timeout time.Duration
}

func newDestroyCmd(e *env) *cobra.Command {
	f := &destroyFlags{}
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Delete the serverless stack (asks first)",
		Long: `Destroy deletes the CloudFormation stack made by iamwatch deploy and waits until it is gone.
The events and alerts tables and the analytics bucket are retained (DeletionPolicy Retain):
delete them by hand if the history is no longer needed. It asks for the stack name first
unless --yes is given.`,
		Args: noArgsUsage,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDestroy(cmd.Context(), e, f) },
	}
	fl := cmd.Flags()
	f.aws.add(fl)
	fl.StringVar(&f.stack, "stack", "iamwatch", "CloudFormation stack name")
	fl.BoolVar(&f.yes, "yes", false, "do not ask for confirmation")
	fl.DurationVar(&f.timeout, "timeout", time.Hour, "how long to wait for the deletion")
	return cmd
}

// errNotConfirmed is a destroy the user did not confirm.
var errNotConfirmed = errors.New("not confirmed; nothing deleted")

// confirm asks for the stack name on in and reports whether it was typed.
func confirm(in io.Reader, out io.Writer, name string) bool {
	fmt.Fprintf(out, "This deletes stack %q: its functions, queues, topic and rules (tables with history and the analytics bucket are kept).\nType the stack name to confirm: ", name)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(out)
		return false
	}
	return strings.TrimSpace(line) == name
}

func runDestroy(ctx context.Context, e *env, f *destroyFlags) error {
	if !f.yes && !confirm(e.stdin, e.stderr, f.stack) {
		return errNotConfirmed
	}
	cfg, err := f.aws.load(ctx)
	if err != nil {
		return err
	}
	d := stack.New(cloudformation.NewFromConfig(cfg), s3.NewFromConfig(cfg), cfg.Region, e.stderr)
	gone, err := d.Destroy(ctx, f.stack, f.timeout)
	if err != nil {
		return err
	}
	if !gone {
		fmt.Fprintf(e.stdout, "stack %s does not exist in %s\n", f.stack, cfg.Region)
		return nil
	}
	fmt.Fprintf(e.stdout, "stack %s deleted\n", f.stack)
	return nil
}
