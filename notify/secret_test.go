package notify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/notify"
)

func TestResolver(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "hook")
	if err := os.WriteFile(file, []byte("https://hooks.example/s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOOK": "from-env", "EMPTY": ""}
	r := &notify.Resolver{
		Getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Lookups: map[string]notify.SecretLookup{
			"ssm": func(_ context.Context, name string) (string, error) {
				if name == "/iamwatch/key" {
					return "from-ssm", nil
				}
				return "", errors.New("ParameterNotFound")
			},
		},
	}
	tests := []struct {
		ref, want, wantErr string
	}{
		{"env:HOOK", "from-env", ""},
		{"env:MISSING", "", "env:MISSING: variable not set"},
		{"env:EMPTY", "", "empty value"},
		{"file:" + file, "https://hooks.example/s3cr3t", ""},
		{"file:" + filepath.Join(dir, "nope"), "", "no such file"},
		{"ssm:/iamwatch/key", "from-ssm", ""},
		{"ssm:/other", "", "ParameterNotFound"},
		{"secretsmanager:x", "", "no secretsmanager client configured"},
		{"https://literal.example/x", "https://literal.example/x", ""},
		{"env:", "", "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := r.Resolve(context.Background(), tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
