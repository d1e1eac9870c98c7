package sample

import (
	"strings"
	"time"
)

// gen builds records. It is not safe for concurrent use.
type gen struct {
	w  *world
	id ids // event ids, request ids, session keys, jitter.
}

// call describes one API call (or sign-in, or service event) before it is a record.
type call struct {
	src, name, region string
	req, resp         Object
	ro                bool
	errCode, errMsg   string
	resources         []Object
	recipient         string // recipientAccountId when not the caller's account.
	evType            string // default AwsApiCall.
	add               Object // additionalEventData.
	details           Object // serviceEventDetails.
	shared            bool   // sharedEventID (cross-account and service calls).
	version           string // eventVersion; a sensible default per source otherwise.
	noRequestID       bool
}

// global is the region IAM, STS (global endpoint), sign-in and Organizations log to.
const global = "us-east-1"

// rec turns a call by a at time at into a record.
func (g *gen) rec(at time.Time, a *actor, c call) Record {
	r := Record{
		EventVersion:        c.version,
		UserIdentity:        a.identity(),
		EventTime:           at.UTC().Truncate(time.Second),
		EventSource:         c.src,
		EventName:           c.name,
		AWSRegion:           c.region,
		SourceIPAddress:     a.ip,
		UserAgent:           a.ua,
		ErrorCode:           c.errCode,
		ErrorMessage:        c.errMsg,
		RequestParameters:   c.req,
		ResponseElements:    c.resp,
		AdditionalEventData: c.add,
		ReadOnly:            ptr(c.ro),
		Resources:           c.resources,
		EventType:           c.evType,
		ManagementEvent:     true,
		RecipientAccountID:  c.recipient,
		ServiceEventDetails: c.details,
		EventCategory:       "Management",
	}
	if r.AWSRegion == "" {
		r.AWSRegion = global
	}
	if r.EventType == "" {
		r.EventType = "AwsApiCall"
	}
	if r.RecipientAccountID == "" {
		r.RecipientAccountID = a.account
	}
	if r.EventVersion == "" {
		switch {
		case c.src == "signin.amazonaws.com":
			r.EventVersion = "1.08"
		case a.kind == kindIdentityCenterUser:
			r.EventVersion = "1.10"
		default:
			r.EventVersion = "1.09"
		}
	}
	if !c.noRequestID {
		r.RequestID = g.id.uuid()
	}
	r.EventID = g.id.uuid()
	if c.shared || a.kind == kindAWSService || a.kind == kindAWSAccount {
		r.SharedEventID = g.id.uuid()
	}
	if a.kind == kindAWSService {
		r.SourceIPAddress, r.UserAgent = a.name, a.name
	} else {
		r.TLSDetails = tls(c.src, r.AWSRegion)
		if a.vpce != "" && c.src != "signin.amazonaws.com" {
			r.VPCEndpointID = a.vpce
		}
	}
	if a.console && c.src != "signin.amazonaws.com" && a.kind != kindIdentityCenterUser {
		r.SessionFromConsole = true
	}
	if r.EventType == "AwsServiceEvent" && a.kind != kindIdentityCenterUser {
		r.TLSDetails = nil
	}
	return r
}

// tls returns tlsDetails for a call to src in region, with the host name the
// client would have used.
func tls(src, region string) Object {
	svc := strings.TrimSuffix(src, ".amazonaws.com")
	var host string
	switch svc {
	case "iam":
		host = "iam.amazonaws.com"
	case "sts":
		if region == global {
			host = "sts.amazonaws.com"
		} else {
			host = "sts." + region + ".amazonaws.com"
		}
	case "signin":
		host = region + ".signin.aws.amazon.com"
	case "s3":
		host = "s3." + region + ".amazonaws.com"
	case "sso":
		host = "sso." + region + ".amazonaws.com"
	default:
		host = svc + "." + region + ".amazonaws.com"
	}
	return Object{{"tlsVersion", "TLSv1.3"}, {"cipherSuite", "TLS_AES_128_GCM_SHA256"}, {"clientProvidedHostHeader", host}}
}

// session returns a copy of a acting in a new session: temporary credentials
// (an ASIA key) created at since, called from ip with ua.
func (g *gen) session(a *actor, since time.Time, ip, ua string, console, mfa bool) *actor {
	s := *a
	s.since, s.ip, s.ua, s.console, s.mfa = since, ip, ua, console, mfa
	switch a.kind {
	case kindIAMUser:
		if console {
			s.key = g.id.iamID("ASIA")
		}
	case kindRoot:
		s.key = ""
		if console {
			s.key = g.id.iamID("ASIA")
		}
	case kindIdentityCenterUser:
		s.key = g.id.token(60)
	default:
		s.key = g.id.iamID("ASIA")
	}
	return &s
}

// credentials returns STS credentials as AssumeRole* responses show them.
func (g *gen) credentials(at time.Time, d time.Duration) (Object, string) {
	key := g.id.iamID("ASIA")
	return Object{
		{"accessKeyId", key},
		{"sessionToken", "IQoJb3JpZ2luX2VjE" + g.id.token(64)},
		{"expiration", stsDate(at.Add(d))},
	}, key
}

// assumeRole is target's credentials being issued to caller (a person's
// session, a service, another account); it returns the record and target
// with its new key and session start.
func (g *gen) assumeRole(at time.Time, caller, target *actor, region string) (Record, *actor) {
	creds, key := g.credentials(at, time.Hour)
	req := Object{{"roleArn", target.roleARN()}, {"roleSessionName", target.session}}
	if target.source != "" {
		req = append(req, Field{"sourceIdentity", target.source})
	}
	if caller.kind == kindAWSService && g.id.chance(0.3) {
		req = append(req, Field{"durationSeconds", 3600})
	}
	resp := Object{
		{"credentials", creds},
		{"assumedRoleUser", Object{{"assumedRoleId", target.id + ":" + target.session}, {"arn", target.arn()}}},
	}
	if target.source != "" {
		resp = append(resp, Field{"sourceIdentity", target.source})
	}
	r := g.rec(at, caller, call{
		src: "sts.amazonaws.com", name: "AssumeRole", region: region, req: req, resp: resp, ro: true,
		resources: []Object{
			{{"accountId", target.account}, {"type", "AWS::IAM::Role"}, {"ARN", target.roleARN()}},
		},
		recipient: target.account,
	})
	t := *target
	t.key, t.since = key, at
	return r, &t
}

func (g *gen) policyARN(acct, name string) string {
	if acct == "aws" {
		return "arn:aws:iam::aws:policy/" + name
	}
	return "arn:aws:iam::" + acct + ":policy/" + name
}
