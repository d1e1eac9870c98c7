package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/iamwatch/iamwatch/notify"
)

// Getter is the Secrets Manager call used (*secretsmanager.Client satisfies it).
type Getter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Lookup returns a notify.SecretLookup reading secrets with client.
func Lookup(client Getter) notify.SecretLookup {
	return func(ctx context.Context, ref string) (string, error) {
		name, key, hasKey := strings.Cut(ref, "#")
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		if err != nil {
			return "", fmt.Errorf("secretsmanager: get secret value: %w", err)
		}
		if out.SecretString == nil {
			return "", errors.New("secretsmanager: get secret value: not a string secret")
		}
		if !hasKey {
			return *out.SecretString, nil
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(*out.SecretString), &m); err != nil {
			return "", errors.New("secretsmanager: secret is not a JSON object") // no detail: it would quote the secret.
		}
		v, ok := m[key].(string)
		if !ok {
			return "", fmt.Errorf("secretsmanager: secret has no string key %q", key)
		}
		return v, nil
	}
}
