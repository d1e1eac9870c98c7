package detect

import (
	"strings"
	"testing"
)

func TestTool(t *testing.T) {
	for _, c := range []struct{ ua, want string }{
		{"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/secretsmanager.get-secret-value", "aws-cli"},
		{"Boto3/1.34.10 md/Botocore#1.34.10 ua/2.0 os/linux#6.2.0 md/arch#x86_64 lang/python#3.12.1 cfg/retry-mode#legacy Botocore/1.34.10", "Boto3"},
		{"aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/ssm#1.44.6", "aws-sdk-go-v2"},
		// An APN partner's prefix, then the partner: the tool comes after.
		{"APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go/1.50.31 (go1.21.8; linux; amd64)", "Terraform"},
		{"HashiCorp Terraform/0.12.31 (+https://www.terraform.io) terraform-provider-aws/2.70.0", "Terraform"},
		// S3 brackets the user agent, and lists more than one.
		{"[Boto3/1.28.2 Python/3.10.12 Linux/6.2.0 Botocore/1.31.2]", "Boto3"},
		{"[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.500 Linux/5.10]", "S3Console"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "Mozilla"},
		// No product token: the user agent is its own tool.
		{"AWS Internal", "AWS Internal"},
		{"ssm.amazonaws.com", "ssm.amazonaws.com"},
		{"harvest-tool_0b9f4c2e-7d1a-4e55-9c3b-2f6a8e1d4b70", "harvest-tool_0b9f4c2e-7d1a-4e55-9c3b-2f6a8e1d4b70"},
		{"  ", ""},
		{"", ""},
		// A lone APN prefix names nothing after it.
		{"APN/1.0", "APN/1.0"},
	} {
		if got := Tool(c.ua); got != c.want {
			t.Errorf("Tool(%q) = %q, want %q", c.ua, got, c.want)
		}
	}
	long := strings.Repeat("x", 300) + "/1.0 rest"
	if got := Tool(long); len([]rune(got)) != maxToolRunes || !strings.HasSuffix(got, "…") {
		t.Errorf("Tool of a 300-character product = %q (%d runes), want %d runes ending in …", got, len([]rune(got)), maxToolRunes)
	}
}
