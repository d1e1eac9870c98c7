package detect

import "testing"

func TestSecretName(t *testing.T) {
	for _, c := range []struct{ id, want string }{
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db-AbC123", "prod/payments/db"},
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/db", "prod/payments/db"}, // partial ARN
		{"arn:aws:secretsmanager:us-east-1:111122223333:secret:db-2024", "db-2024"},                   // a name's own dash, not six characters
		{"prod/payments/db", "prod/payments/db"},
		{"prod/payments/db-AbC123", "prod/payments/db-AbC123"}, // a name, not an ARN: as given
		{"", ""},
	} {
		if got := SecretName(c.id); got != c.want {
			t.Errorf("SecretName(%q) = %q, want %q", c.id, got, c.want)
		}
	}
}
