package sample

import "strings"

// urlEncode percent-encodes everything but RFC 3986 unreserved characters,
// the way CloudTrail shows IAM policy documents ("%7B%22Version%22%3A…").
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&0xf])
	}
	return b.String()
}

// The policy documents of the scenarios. Console-written ones keep the
// console's indentation; SDK-written ones are compact.
const (
	policyAllowAll = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OpsMaintenance",
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*"
        }
    ]
}`
	policyNotAction = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "EverythingButBilling",
            "Effect": "Allow",
            "NotAction": [
                "aws-portal:*",
                "budgets:*"
            ],
            "Resource": "*"
        }
    ]
}`
	policyNotActionV2 = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OpsReadAndRestart",
            "Effect": "Allow",
            "Action": [
                "ec2:Describe*",
                "ec2:RebootInstances",
                "ecs:UpdateService",
                "logs:Get*"
            ],
            "Resource": "*"
        }
    ]
}`
	policyS3Read = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::example-corp-invoices","arn:aws:s3:::example-corp-invoices/*"]}]}`

	trustExternal = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:aws:iam::777788889999:root"
      },
      "Action": "sts:AssumeRole",
      "Condition": {
        "StringEquals": {
          "sts:ExternalId": "cspm-3f9a1c7e"
        }
      }
    }
  ]
}`
	trustEveryone = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	trustSameAcct = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "lambda.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    },
    {
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:aws:iam::111122223333:root"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}`
	permissionSetInline = `{"Version":"2012-10-17","Statement":[{"Sid":"IncidentForensics","Effect":"Allow","Action":["cloudtrail:LookupEvents","logs:StartQuery","logs:GetQueryResults","ec2:CreateSnapshot","ec2:DescribeSnapshots"],"Resource":"*"}]}`

	bucketPolicyPublic = `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-corp-invoices/*"}]}`
)
