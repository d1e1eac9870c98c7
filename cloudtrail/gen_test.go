package cloudtrail

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// genRecord writes a realistic record (about 1–2 KB) to b: the mix of a busy
// account, service calls, role sessions, console sign-ins and IAM changes.
func genRecord(b *bytes.Buffer, i int) {
	t := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 137 * time.Millisecond)
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", i*2654435761&0xffffffff, i&0xffff, i%4096, (i/7)%4096, i)
	const acct = "210987654321"
	ua := "aws-cli/2.22.1 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1019-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#"
	var ident, src, name, req, resp, extra, typ string
	switch i % 8 {
	case 0, 1, 2:
		ident = fmt.Sprintf(`{"type":"AssumedRole","principalId":"AROAZZEXAMPLEAPP00001:i-0%015x","arn":"arn:aws:sts::%s:assumed-role/app-runtime/i-0%015x","accountId":"%s","accessKeyId":"ASIAZZEXAMPLE%07d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAZZEXAMPLEAPP00001","arn":"arn:aws:iam::%s:role/app-runtime","accountId":"%s","userName":"app-runtime"},"webIdFederationData":{},"attributes":{"creationDate":"%s","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}}`, i%97, acct, i%97, acct, i%9999999, acct, acct, t.Add(-time.Hour).Format(time.RFC3339))
		src, name, typ = "s3.amazonaws.com", "GetObject", "AwsApiCall"
		req = fmt.Sprintf(`{"bucketName":"example-app-assets","Host":"example-app-assets.s3.us-east-1.amazonaws.com","key":"uploads/2025/03/04/object-%d.jpg"}`, i)
		resp = "null"
		extra = `"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"EXAMPLEid2/abcdefghijklmnopqrstuvwxyz0123456789=","bytesTransferredOut":48213},"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::example-app-assets/uploads/object.jpg"},{"accountId":"210987654321","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::example-app-assets"}],"readOnly":true,`
		ua = "[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2]"
	case 3, 4:
		ident = fmt.Sprintf(`{"type":"IAMUser","principalId":"AIDAZZEXAMPLEUSER%04d","arn":"arn:aws:iam::%s:user/dev/user%d","accountId":"%s","accessKeyId":"AKIAZZEXAMPLE%07d","userName":"user%d"}`, i%50, acct, i%50, acct, i%50, i%50)
		src, name, typ = "ec2.amazonaws.com", "DescribeInstances", "AwsApiCall"
		req = `{"instancesSet":{},"filterSet":{"items":[{"name":"instance-state-name","valueSet":{"items":[{"value":"running"}]}}]}}`
		resp = "null"
		extra = `"readOnly":true,`
		ua += "ec2.describe-instances"
	case 5:
		ident = fmt.Sprintf(`{"type":"AssumedRole","principalId":"AROAZZEXAMPLESSOADM01:person%d@example.org","arn":"arn:aws:sts::%s:assumed-role/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6071/person%d@example.org","accountId":"%s","accessKeyId":"ASIAZZEXAMPLE%07d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAZZEXAMPLESSOADM01","arn":"arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6071","accountId":"%s","userName":"AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6071"},"attributes":{"creationDate":"%s","mfaAuthenticated":"false"}}}`, i%20, acct, i%20, acct, i%9999999, acct, acct, t.Add(-time.Hour).Format(time.RFC3339))
		src, name, typ = "iam.amazonaws.com", "AttachRolePolicy", "AwsApiCall"
		req = fmt.Sprintf(`{"roleName":"service-%d","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, i%30)
		resp = "null"
		extra = `"readOnly":false,`
		ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	case 6:
		ident = fmt.Sprintf(`{"type":"IAMUser","principalId":"AIDAZZEXAMPLEUSER%04d","arn":"arn:aws:iam::%s:user/user%d","accountId":"%s","userName":"user%d"}`, i%50, acct, i%50, acct, i%50)
		src, name, typ = "signin.amazonaws.com", "ConsoleLogin", "AwsConsoleSignIn"
		req = "null"
		if i%3 == 0 {
			resp = `{"ConsoleLogin":"Failure"}`
			extra = `"errorMessage":"Failed authentication",`
		} else {
			resp = `{"ConsoleLogin":"Success"}`
		}
		extra += `"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true","MobileVersion":"No","MFAUsed":"No"},"readOnly":false,`
		ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
	default:
		ident = `{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}`
		src, name, typ = "sts.amazonaws.com", "AssumeRole", "AwsApiCall"
		req = fmt.Sprintf(`{"roleArn":"arn:aws:iam::%s:role/app-runtime","roleSessionName":"i-0%015x"}`, acct, i%97)
		resp = fmt.Sprintf(`{"credentials":{"accessKeyId":"ASIAZZEXAMPLE%07d","sessionToken":"IQoJb3JpZ2luX2VjEEXAMPLEsessiontokenEXAMPLEsessiontokenEXAMPLE","expiration":"Mar 4, 2025, 6:00:00 AM"},"assumedRoleUser":{"assumedRoleId":"AROAZZEXAMPLEAPP00001:i-0%015x","arn":"arn:aws:sts::%s:assumed-role/app-runtime/i-0%015x"}}`, i%9999999, i%97, acct, i%97)
		extra = `"resources":[{"accountId":"210987654321","type":"AWS::IAM::Role","ARN":"arn:aws:iam::210987654321:role/app-runtime"}],"sharedEventID":"0c0c0c0c-0000-4000-8000-000000000010","readOnly":true,`
		ua = "ec2.amazonaws.com"
	}
	fmt.Fprintf(b, `{"eventVersion":"1.09","userIdentity":%s,"eventTime":"%s","eventSource":"%s","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"198.51.%d.%d","userAgent":"%s","requestParameters":%s,"responseElements":%s,"requestID":"%s","eventID":"%s",%s"eventType":"%s","managementEvent":true,"recipientAccountId":"%s","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s"}}`,
		ident, t.Format(time.RFC3339), src, name, i%256, (i/256)%256, ua, req, resp, id, id, extra, typ, acct, src)
}

// trailReader produces a trail file {"Records":[…]} of n generated records
// without holding it in memory.
type trailReader struct {
	n, i int
	buf  bytes.Buffer
	done bool
}

func newTrailReader(n int) *trailReader {
	r := &trailReader{n: n}
	r.buf.WriteString(`{"Records":[`)
	return r
}

func (r *trailReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && !r.done {
		if r.i == r.n {
			r.buf.WriteString("]}")
			r.done = true
			break
		}
		if r.i > 0 {
			r.buf.WriteByte(',')
		}
		genRecord(&r.buf, r.i)
		r.i++
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

// genTrail returns a whole trail of n generated records.
func genTrail(n int) []byte {
	b, _ := io.ReadAll(newTrailReader(n))
	return b
}
