package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// SecretLookup fetches a secret by name from a store (SSM Parameter Store,
// Secrets Manager). Its errors must not contain the secret.
type SecretLookup func(ctx context.Context, name string) (string, error)

// Resolver turns secret references from the configuration into values:
//
//	env:NAME                 the environment variable NAME (through Getenv)
//	file:/path               the file's contents, one trailing newline removed
//	ssm:/param/name          Lookups["ssm"]
//	secretsmanager:name      Lookups["secretsmanager"]
//
// Anything else is a literal value, returned as is. Errors name the
// reference, never the value. A Resolver is safe for concurrent use if its
// functions are.
type Resolver struct {
	// Getenv looks up an environment variable (os.LookupEnv in the command;
	// a map in tests). Nil: env: references fail.
	Getenv func(name string) (string, bool)
	// Lookups by scheme, e.g. "ssm", "secretsmanager".
	Lookups map[string]SecretLookup
	// Placeholder, when set, is what every reference resolves to, nothing
	// being read: for checking a configuration as written (a URL, so that
	// URL settings pass).
	Placeholder string
}

// CheckPlaceholder is the Placeholder for checking a configuration.
const CheckPlaceholder = "https://secret.invalid/placeholder"

// IsReference reports whether v is a secret reference rather than a literal.
func IsReference(v string) bool {
	scheme, _, ok := strings.Cut(v, ":")
	return ok && (scheme == "env" || scheme == "file" || scheme == "ssm" || scheme == "secretsmanager")
}

// Resolve returns the value ref stands for. An empty result is an error: a
// secret that resolves to nothing is a configuration mistake.
func (r *Resolver) Resolve(ctx context.Context, ref string) (string, error) {
	if !IsReference(ref) {
		return ref, nil
	}
	scheme, name, _ := strings.Cut(ref, ":")
	if name == "" {
		return "", fmt.Errorf("secret %s: empty name", ref)
	}
	if r.Placeholder != "" {
		return r.Placeholder, nil
	}
	var v string
	switch scheme {
	case "env":
		if r.Getenv == nil {
			return "", fmt.Errorf("secret %s: no environment", ref)
		}
		var ok bool
		if v, ok = r.Getenv(name); !ok {
			return "", fmt.Errorf("secret %s: variable not set", ref)
		}
	case "file":
		b, err := os.ReadFile(name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("secret %s: %w", ref, err)
		}
		v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	default:
		lookup := r.Lookups[scheme]
		if lookup == nil {
			return "", fmt.Errorf("secret %s: no %s client configured", ref, scheme)
		}
		var err error
		if v, err = lookup(ctx, name); err != nil {
			return "", fmt.Errorf("secret %s: %w", ref, err)
		}
	}
	if v == "" {
		return "", fmt.Errorf("secret %s: empty value", ref)
	}
	return v, nil
}
