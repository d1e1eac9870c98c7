package ssm

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/iamwatch/iamwatch/notify"
)

// Getter is the SSM call used (*ssm.Client satisfies it).
type Getter interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// Lookup returns a notify.SecretLookup reading parameters with client.
func Lookup(client Getter) notify.SecretLookup {
	return func(ctx context.Context, name string) (string, error) {
		out, err := client.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err != nil {
			return "", fmt.Errorf("ssm: get parameter: %w", err)
		}
		if out.Parameter == nil || out.Parameter.Value == nil {
			return "", errors.New("ssm: get parameter: no value")
		}
		return *out.Parameter.Value, nil
	}
}
