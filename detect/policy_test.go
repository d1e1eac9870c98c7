package detect

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestPolicyAllowsAny(t *testing.T) {
	broad := []string{"*", "iam:*", "sts:*"}
	tests := []struct {
		name string
		doc  any
		want bool
	}{
		{"action star", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true},
		{"statement object", `{"Statement":{"Effect":"Allow","Action":["s3:GetObject","iam:*"],"Resource":"*"}}`, true},
		{"case-insensitive", `{"Statement":{"Effect":"allow","Action":"IAM:*","Resource":"*"}}`, true},
		{"star colon star", `{"Statement":{"Effect":"Allow","Action":"*:*","Resource":"*"}}`, true},
		{"sts star", `{"Statement":{"Effect":"Allow","Action":"sts:*","Resource":"*"}}`, true},
		{"narrow iam", `{"Statement":{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}}`, false},
		{"narrow s3", `{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}`, false},
		{"deny star", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, false},
		{"NotAction allows the rest", `{"Statement":{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}}`, true},
		{"NotAction excluding everything", `{"Statement":{"Effect":"Allow","NotAction":"*","Resource":"*"}}`, false},
		{"NotAction excluding iam still allows sts", `{"Statement":{"Effect":"Allow","NotAction":["iam:*"],"Resource":"*"}}`, true},
		{"Deny NotAction", `{"Statement":{"Effect":"Deny","NotAction":"s3:*","Resource":"*"}}`, false},
		{"url-encoded", url.QueryEscape(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`), true},
		{"url-encoded with %20", url.PathEscape(`{"Statement": {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}}`), true},
		{"JSON string of a document", `"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}"`, true},
		{"decoded map", map[string]any{"Statement": map[string]any{"Effect": "Allow", "Action": "*"}}, true},
		{"whitespace", "\n  {\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\"}}", true},
		{"not JSON", `Action=*`, false},
		{"no statement", `{"Version":"2012-10-17"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.doc)
			got := err == nil && p.AllowsAny(broad)
			if got != tt.want {
				t.Errorf("AllowsAny = %v (err %v), want %v", got, err, tt.want)
			}
		})
	}
}

func TestExternalPrincipals(t *testing.T) {
	const own, trusted = "111122223333", "999988887777"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"star", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, []string{"*"}},
		{"AWS star", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`, []string{"*"}},
		{"other account id", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}]}`, []string{"444455556666"}},
		{"other account root", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`, []string{"arn:aws:iam::444455556666:root"}},
		{"other account role in list", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:role/a","arn:aws:iam::444455556666:role/b"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}`, []string{"arn:aws:iam::444455556666:role/b"}},
		{"wildcard account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"sts:AssumeRole"}]}`, []string{"arn:aws:iam::*:root"}},
		{"own account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`, nil},
		{"trusted account", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999988887777"},"Action":"sts:AssumeRole"}]}`, nil},
		{"service", `{"Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`, nil},
		{"federated own provider", `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`, nil},
		{"federated other provider", `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::444455556666:saml-provider/idp"},"Action":"sts:AssumeRoleWithSAML"}]}`, []string{"arn:aws:iam::444455556666:saml-provider/idp"}},
		{"deny star", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}]}`, nil},
		{"not an assume action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]}`, nil},
		{"NotPrincipal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`, []string{"NotPrincipal"}},
		{"unique id", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"AROAJ2UCCR6DPCEXAMPLE"},"Action":"sts:AssumeRole"}]}`, nil},
		{"url-encoded", url.QueryEscape(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}]}`), []string{"444455556666"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ExternalPrincipals(own, []string{trusted}); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExternalGrantees(t *testing.T) {
	const own, trusted = "111122223333", "999988887777"
	stmt := func(principal, cond string) string {
		if cond != "" {
			cond = `,"Condition":` + cond
		}
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + principal + `,"Action":"s3:GetObject","Resource":"*"` + cond + `}]}`
	}
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"public", stmt(`"*"`, ""), []string{"*"}},
		{"AWS star", stmt(`{"AWS":"*"}`, ""), []string{"*"}},
		{"other account root", stmt(`{"AWS":"arn:aws:iam::444455556666:root"}`, ""), []string{"arn:aws:iam::444455556666:root"}},
		{"other account id in a list", stmt(`{"AWS":["arn:aws:iam::111122223333:role/app","444455556666"]}`, ""), []string{"444455556666"}},
		{"own account", stmt(`{"AWS":"arn:aws:iam::111122223333:root"}`, ""), nil},
		{"trusted account", stmt(`{"AWS":"999988887777"}`, ""), nil},
		{"service", stmt(`{"Service":"cloudtrail.amazonaws.com"}`, ""), nil},
		{"canonical user", stmt(`{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, ""), nil},
		{"star pinned to own account", stmt(`{"AWS":"*"}`, `{"StringEquals":{"AWS:SourceOwner":"111122223333"}}`), nil},
		{"star pinned to own source arn", stmt(`"*"`, `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-1:111122223333:alerts"}}`), nil},
		{"star pinned to another account", stmt(`"*"`, `{"StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}`), []string{"444455556666"}},
		{"star pinned to kms caller account", stmt(`{"AWS":"*"}`, `{"StringEquals":{"kms:CallerAccount":"111122223333","kms:ViaService":"ec2.us-east-1.amazonaws.com"}}`), nil},
		{"star pinned to organisation", stmt(`"*"`, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), nil},
		{"star pinned to a bucket", stmt(`"*"`, `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::example-bucket"}}`), nil},
		{"star with a wildcard source account", stmt(`"*"`, `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:us-east-1:*:alerts"}}`), []string{"*"}},
		{"IfExists does not narrow", stmt(`"*"`, `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`), []string{"*"}},
		{"negative operator does not narrow", stmt(`"*"`, `{"StringNotEquals":{"aws:PrincipalAccount":"444455556666"}}`), []string{"*"}},
		{"source IP does not narrow", stmt(`"*"`, `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), []string{"*"}},
		{"conditions do not narrow a named account", stmt(`{"AWS":"444455556666"}`, `{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}`), []string{"444455556666"}},
		{"deny star", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, nil},
		{"NotPrincipal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*"}]}`, []string{"NotPrincipal"}},
		{"url-encoded", url.QueryEscape(stmt(`{"AWS":"444455556666"}`, "")), []string{"444455556666"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ExternalGrantees(own, []string{trusted}); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOutsideAccounts(t *testing.T) {
	const own, trusted = "111122223333", "999988887777"
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"ec2 user id", map[string]any{"items": []any{map[string]any{"userId": "444455556666"}}}, []string{"444455556666"}},
		{"ec2 group all", map[string]any{"items": []any{map[string]any{"group": "all"}}}, []string{"all"}},
		{"ec2 own and trusted", map[string]any{"items": []any{map[string]any{"userId": own}, map[string]any{"userId": trusted}}}, nil},
		{"rds values", []any{"444455556666", own}, []string{"444455556666"}},
		{"rds all", []any{"all"}, []string{"all"}},
		{"lambda star", "*", []string{"*"}},
		{"lambda account arn", "arn:aws:iam::444455556666:root", []string{"arn:aws:iam::444455556666:root"}},
		{"lambda service", "s3.amazonaws.com", nil},
		{"organisation arn", map[string]any{"items": []any{map[string]any{"organizationArn": "arn:aws:organizations::111122223333:organization/o-a1b2c3d4e5"}}}, nil},
		{"JSON text of a list", `[{"userId":"444455556666"},{"group":"all"}]`, []string{"444455556666", "all"}},
		{"JSON text of strings", `["444455556666"]`, []string{"444455556666"}},
		{"not JSON", `[444`, nil},
		{"nothing", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OutsideAccounts(tt.v, own, []string{trusted}); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzOutsideAccounts checks the share-list reader never panics and that a
// list's JSON text names what the decoded list names.
func FuzzOutsideAccounts(f *testing.F) {
	for _, s := range []string{`[{"userId":"444455556666"},{"group":"all"}]`, `["all","111122223333"]`, `*`, `{"items":[{"items":[]}]}`, `[[[[[[[[[["1"]]]]]]]]]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := OutsideAccounts(s, "111122223333", nil)
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		if _, isString := v.(string); isString {
			return // a JSON string literal is a value, not a list
		}
		if want := OutsideAccounts(v, "111122223333", nil); !slices.Equal(got, want) && strings.TrimSpace(s) == s {
			t.Fatalf("text %q names %q, decoded %q", s, got, want)
		}
	})
}

func TestWildFold(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "iam:*", true}, {"iam:*", "IAM:*", true}, {"iam:Create*", "iam:*", false},
		{"i?m:*", "iam:*", true}, {"*:*", "sts:*", true}, {"s3:*", "iam:*", false},
		{"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false}, {"", "", true}, {"", "a", false},
	}
	for _, tt := range tests {
		if got := wildFold(tt.p, tt.s); got != tt.want {
			t.Errorf("wildFold(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

// FuzzParsePolicy checks the parser never panics, and that whatever it
// accepts survives a round trip through its URL-encoded form unchanged.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`{"Statement":{"Effect":"Allow","NotAction":["s3:*"],"Principal":{"AWS":["1","*"]}}}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":{"aws:SourceAccount":["1",2,true]}}}}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Condition":{"ForAnyValue:StringLike":{"aws:PrincipalOrgID":"o-1"}}}}`,
		`%7B%22Statement%22%3A%7B%7D%7D`, `"{}"`, `{"Statement":[1,2]}`, `{"statement":{"effect":"allow"}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ParsePolicy(doc)
		if err != nil {
			return
		}
		_ = p.AllowsAny([]string{"*", "iam:*"})
		_ = p.ExternalPrincipals("111122223333", nil)
		_ = p.ExternalGrantees("111122223333", nil)
		q, err := ParsePolicy(url.QueryEscape(doc))
		if err != nil {
			if len(url.QueryEscape(doc)) <= maxPolicyBytes {
				t.Fatalf("URL-encoded form of an accepted document refused: %v", err)
			}
			return
		}
		if p.AllowsAny([]string{"*", "iam:*", "sts:*"}) != q.AllowsAny([]string{"*", "iam:*", "sts:*"}) ||
			!slices.Equal(p.ExternalPrincipals("1", nil), q.ExternalPrincipals("1", nil)) ||
			!slices.Equal(p.ExternalGrantees("1", nil), q.ExternalGrantees("1", nil)) {
			t.Fatalf("URL-encoding changed the verdict of %q", doc)
		}
	})
}
