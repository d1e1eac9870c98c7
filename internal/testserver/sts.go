package testserver

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeKeyPrefix starts every access key the fakes understand; the account ID
// follows it, so [Lookup] knows whose events a caller may see.
const fakeKeyPrefix = "AKIAFAKE"

// AccessKeyFor returns a static access key ID that the fakes attribute to account.
func AccessKeyFor(account string) string { return fakeKeyPrefix + account }

// AccountOfKey returns the account of an access key issued by [AccessKeyFor]
// or [STS], or "".
func AccountOfKey(key string) string {
	for _, p := range []string{fakeKeyPrefix, "ASIAFAKE"} {
		if a, ok := strings.CutPrefix(key, p); ok {
			return a
		}
	}
	return ""
}

// STSOptions configure the STS fake.
type STSOptions struct {
	// ExternalIDs is the external ID each assumable role requires ("" for
	// none). A role not listed cannot be assumed (AccessDenied).
	ExternalIDs map[string]string
	Now         func() time.Time // nil: time.Now.
}

// STS is an httptest server speaking the STS Query protocol for
// GetCallerIdentity and AssumeRole. The temporary keys it issues carry the
// role's account (see [AccountOfKey]). Safe for concurrent use.
type STS struct {
	URL string

	o       STSOptions
	mu      sync.Mutex
	assumed map[string]int // role ARN → AssumeRole calls.
}

// StartSTS starts the fake on 127.0.0.1 and closes it in t.Cleanup.
func StartSTS(t testing.TB, o STSOptions) *STS {
	t.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &STS{o: o, assumed: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AssumeRoleCalls returns how often role was assumed.
func (s *STS) AssumeRoleCalls(role string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.assumed[role]
}

func (s *STS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		stsError(w, http.StatusBadRequest, "MalformedInput", err.Error())
		return
	}
	account, _, err := callerScope(r.Header.Get("Authorization"))
	if err != nil {
		stsError(w, http.StatusForbidden, "IncompleteSignature", err.Error())
		return
	}
	type creds struct {
		AccessKeyID     string `xml:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	switch r.PostForm.Get("Action") {
	case "GetCallerIdentity":
		writeXML(w, struct {
			XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
			Result  struct {
				Arn, UserId, Account string
			} `xml:"GetCallerIdentityResult"`
		}{Result: struct{ Arn, UserId, Account string }{
			Arn: "arn:aws:iam::" + account + ":user/iamwatch", UserId: "AIDAFAKE", Account: account,
		}})
	case "AssumeRole":
		role, ext := r.PostForm.Get("RoleArn"), r.PostForm.Get("ExternalId")
		want, ok := s.o.ExternalIDs[role]
		if !ok || want != ext {
			stsError(w, http.StatusForbidden, "AccessDenied", fmt.Sprintf("not authorized to perform sts:AssumeRole on %s", role))
			return
		}
		parts := strings.Split(role, ":")
		if len(parts) < 6 {
			stsError(w, http.StatusBadRequest, "ValidationError", "bad role ARN")
			return
		}
		s.mu.Lock()
		s.assumed[role]++
		s.mu.Unlock()
		roleAccount := parts[4]
		session := r.PostForm.Get("RoleSessionName")
		writeXML(w, struct {
			XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
			Result  struct {
				Credentials     creds
				AssumedRoleUser struct{ Arn, AssumedRoleId string }
			} `xml:"AssumeRoleResult"`
		}{Result: struct {
			Credentials     creds
			AssumedRoleUser struct{ Arn, AssumedRoleId string }
		}{
			Credentials: creds{
				AccessKeyID: "ASIAFAKE" + roleAccount, SecretAccessKey: "secret", SessionToken: "token",
				Expiration: s.o.Now().Add(time.Hour).UTC().Format(time.RFC3339),
			},
			AssumedRoleUser: struct{ Arn, AssumedRoleId string }{
				Arn:           "arn:aws:sts::" + roleAccount + ":assumed-role/" + parts[5] + "/" + session,
				AssumedRoleId: "AROAFAKE:" + session,
			},
		}})
	default:
		stsError(w, http.StatusBadRequest, "InvalidAction", "unsupported action "+r.PostForm.Get("Action"))
	}
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
		Error   struct{ Type, Code, Message string }
	}{Error: struct{ Type, Code, Message string }{"Sender", code, msg}})
}
