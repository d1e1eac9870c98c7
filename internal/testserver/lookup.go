package testserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// LookupEvent is one event the LookupEvents fake serves.
type LookupEvent struct {
	ID          string
	Name        string
	Source      string // eventSource, e.g. "iam.amazonaws.com".
	Username    string
	AccessKeyID string
	ReadOnly    string // "true" or "false".
	Time        time.Time
	Region      string // the region whose LookupEvents returns it.
	Account     string // the account whose callers see it; "" for every caller.
	// Record is the CloudTrailEvent string; when empty a plausible record is
	// built from the fields above.
	Record string
	// Visible is the first time (by the fake's clock) the event is returned:
	// CloudTrail delivers events to LookupEvents minutes after they happen.
	// Zero means at once.
	Visible time.Time
}

// LookupOptions configure the fake.
type LookupOptions struct {
	// Now is the fake's clock, for Visible and the rate limit; nil: time.Now.
	Now func() time.Time
	// Rate is the requests a second allowed per account and region (2, as
	// AWS documents); Burst the bucket size (Rate rounded up).
	Rate  float64
	Burst int
}

// LookupStats counts what the fake served.
type LookupStats struct {
	Requests  int // every LookupEvents call, throttled ones included.
	Throttled int // calls answered with ThrottlingException.
	Errors    int // calls answered with another error.
	Events    int // events returned, over all pages.
}

// Lookup is an httptest server speaking CloudTrail's LookupEvents over the
// JSON 1.1 protocol, faithful to the documented limits: at most 50 events a
// page, exactly one lookup attribute, newest first, opaque NextToken bound to
// the query it continues, ThrottlingException (HTTP 400) above Rate requests
// a second per account and region. The region is read from the SigV4
// credential scope of the Authorization header; the account from the access
// key (see [STS]: keys it issues end with the account ID). Safe for
// concurrent use.
type Lookup struct {
	URL string // the endpoint, for BaseEndpoint or AWS_ENDPOINT_URL_CLOUDTRAIL.

	o      LookupOptions
	mu     sync.Mutex
	events []LookupEvent
	bucket map[string]*tokenBucket // per account/region.
	stats  LookupStats
}

// StartLookup starts the fake on 127.0.0.1 and closes it in t.Cleanup.
func StartLookup(t testing.TB, o LookupOptions) *Lookup {
	t.Helper()
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rate <= 0 {
		o.Rate = 2
	}
	if o.Burst <= 0 {
		o.Burst = int(math.Ceil(o.Rate))
	}
	l := &Lookup{o: o, bucket: map[string]*tokenBucket{}}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	l.URL = srv.URL
	return l
}

// Add makes events available (from their Visible time on).
func (l *Lookup) Add(evs ...LookupEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, evs...)
}

// Stats returns the counts so far.
func (l *Lookup) Stats() LookupStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// lookupAttributeKeys are the documented AttributeKey values.
var lookupAttributeKeys = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}

type lookupRequest struct {
	LookupAttributes []struct {
		AttributeKey   string
		AttributeValue string
	}
	StartTime     *float64
	EndTime       *float64
	EventCategory string
	MaxResults    *int
	NextToken     *string
}

type lookupToken struct {
	Query string // hash of the query the token continues.
	Time  int64  // unix nanoseconds of the last event returned.
	ID    string // its event ID.
}

func (l *Lookup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		lookupError(w, http.StatusMethodNotAllowed, "UnknownOperationException", "POST only")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "CloudTrail_20131101.LookupEvents" {
		l.count(func(s *LookupStats) { s.Errors++ })
		lookupError(w, http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("unknown operation %q", target))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		l.count(func(s *LookupStats) { s.Errors++ })
		lookupError(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("content type %q", ct))
		return
	}
	account, region, err := callerScope(r.Header.Get("Authorization"))
	if err != nil {
		l.count(func(s *LookupStats) { s.Errors++ })
		lookupError(w, http.StatusForbidden, "IncompleteSignatureException", err.Error())
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		lookupError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	var req lookupRequest
	if err := json.Unmarshal(body, &req); err != nil {
		l.count(func(s *LookupStats) { s.Errors++ })
		lookupError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Requests++
	now := l.o.Now()
	b := l.bucket[account+"/"+region]
	if b == nil {
		b = &tokenBucket{tokens: float64(l.o.Burst), last: now}
		l.bucket[account+"/"+region] = b
	}
	if !b.take(now, l.o.Rate, float64(l.o.Burst)) {
		l.stats.Throttled++
		lookupError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		return
	}
	fail := func(code, msg string) {
		l.stats.Errors++
		lookupError(w, http.StatusBadRequest, code, msg)
	}
	if len(req.LookupAttributes) > 1 {
		fail("InvalidLookupAttributesException", "Currently the list can contain only one item.")
		return
	}
	var attrKey, attrValue string
	if len(req.LookupAttributes) == 1 {
		attrKey, attrValue = req.LookupAttributes[0].AttributeKey, req.LookupAttributes[0].AttributeValue
		if !slices.Contains(lookupAttributeKeys, attrKey) || attrValue == "" {
			fail("InvalidLookupAttributesException", fmt.Sprintf("invalid lookup attribute %q", attrKey))
			return
		}
	}
	max := 50
	if req.MaxResults != nil {
		if *req.MaxResults < 1 || *req.MaxResults > 50 {
			fail("InvalidMaxResultsException", "MaxResults must be between 1 and 50")
			return
		}
		max = *req.MaxResults
	}
	start, end := time.Time{}, now
	if req.StartTime != nil {
		start = epoch(*req.StartTime)
	}
	if req.EndTime != nil {
		end = epoch(*req.EndTime)
	}
	if start.After(end) {
		fail("InvalidTimeRangeException", "StartTime is after EndTime")
		return
	}
	query := queryHash(account, region, attrKey, attrValue, start, end)
	var after *lookupToken
	if req.NextToken != nil {
		tok, err := decodeLookupToken(*req.NextToken)
		if err != nil || tok.Query != query {
			fail("InvalidNextTokenException", "Invalid NextToken")
			return
		}
		after = &tok
	}

	var match []LookupEvent
	for _, ev := range l.events {
		switch {
		case ev.Region != region, ev.Account != "" && ev.Account != account,
			ev.Time.Before(start), ev.Time.After(end),
			!ev.Visible.IsZero() && now.Before(ev.Visible),
			!attrMatch(ev, attrKey, attrValue):
			continue
		}
		match = append(match, ev)
	}
	// Newest first; the event ID breaks ties so pages are stable.
	slices.SortFunc(match, func(a, b LookupEvent) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if after != nil {
		i := 0
		for i < len(match) && !olderThan(match[i], *after) {
			i++
		}
		match = match[i:]
	}
	var out struct {
		Events    []map[string]any `json:"Events"`
		NextToken string           `json:"NextToken,omitempty"`
	}
	out.Events = []map[string]any{}
	page := match[:min(max, len(match))]
	for _, ev := range page {
		out.Events = append(out.Events, lookupEventJSON(ev))
	}
	if len(match) > len(page) {
		last := page[len(page)-1]
		out.NextToken = encodeLookupToken(lookupToken{Query: query, Time: last.Time.UnixNano(), ID: last.ID})
	}
	l.stats.Events += len(page)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (l *Lookup) count(f func(*LookupStats)) {
	l.mu.Lock()
	f(&l.stats)
	l.mu.Unlock()
}

// olderThan reports whether ev comes after the token's event in newest-first order.
func olderThan(ev LookupEvent, tok lookupToken) bool {
	t := ev.Time.UnixNano()
	return t < tok.Time || (t == tok.Time && ev.ID > tok.ID)
}

func attrMatch(ev LookupEvent, key, value string) bool {
	switch key {
	case "":
		return true
	case "EventId":
		return ev.ID == value
	case "EventName":
		return ev.Name == value
	case "EventSource":
		return ev.Source == value
	case "Username":
		return ev.Username == value
	case "ReadOnly":
		return ev.ReadOnly == value
	case "AccessKeyId":
		return ev.AccessKeyID == value
	}
	return false // resource attributes: the fake's events name no resources.
}

func lookupEventJSON(ev LookupEvent) map[string]any {
	rec := ev.Record
	if rec == "" {
		rec = LookupRecord(ev)
	}
	m := map[string]any{
		"EventId":         ev.ID,
		"EventName":       ev.Name,
		"EventTime":       float64(ev.Time.UnixNano()) / 1e9,
		"EventSource":     ev.Source,
		"Resources":       []any{},
		"CloudTrailEvent": rec,
	}
	if ev.ReadOnly != "" {
		m["ReadOnly"] = ev.ReadOnly
	}
	if ev.Username != "" {
		m["Username"] = ev.Username
	}
	if ev.AccessKeyID != "" {
		m["AccessKeyId"] = ev.AccessKeyID
	}
	return m
}

// LookupRecord builds the CloudTrail record of ev: an IAM user's API call,
// or a console sign-in for signin.amazonaws.com.
func LookupRecord(ev LookupEvent) string {
	account := ev.Account
	if account == "" {
		account = "111122223333"
	}
	user := ev.Username
	if user == "" {
		user = "alice"
	}
	rec := map[string]any{
		"eventVersion": "1.09",
		"userIdentity": map[string]any{
			"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::" + account + ":user/" + user,
			"accountId": account, "userName": user,
		},
		"eventTime":          ev.Time.UTC().Format(time.RFC3339),
		"eventSource":        ev.Source,
		"eventName":          ev.Name,
		"awsRegion":          ev.Region,
		"sourceIPAddress":    "198.51.100.7",
		"userAgent":          "aws-cli/2.15.0",
		"requestParameters":  nil,
		"responseElements":   nil,
		"eventID":            ev.ID,
		"readOnly":           ev.ReadOnly == "true",
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": account,
	}
	if ev.Source == "signin.amazonaws.com" {
		rec["eventType"] = "AwsConsoleSignIn"
		rec["responseElements"] = map[string]any{"ConsoleLogin": "Success"}
		rec["additionalEventData"] = map[string]any{"MFAUsed": "Yes"}
	}
	b, _ := json.Marshal(rec)
	return string(b)
}

func epoch(sec float64) time.Time {
	s, frac := math.Modf(sec)
	return time.Unix(int64(s), int64(math.Round(frac*1e9))).UTC()
}

func queryHash(parts ...any) string {
	h := sha256.Sum256(fmt.Append(nil, parts...))
	return hex.EncodeToString(h[:8])
}

func encodeLookupToken(t lookupToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeLookupToken(s string) (lookupToken, error) {
	var t lookupToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, err
	}
	return t, json.Unmarshal(b, &t)
}

// callerScope reads the caller's account (from the access key, see
// [AccountOfKey]) and region from a SigV4 Authorization header.
func callerScope(auth string) (account, region string, err error) {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", "", fmt.Errorf("no SigV4 credential in Authorization header")
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return "", "", fmt.Errorf("bad credential scope %q", cred)
	}
	return AccountOfKey(parts[0]), parts[2], nil
}

// lookupError writes a JSON 1.1 error: the code in __type and in the
// X-Amzn-ErrorType header, as AWS does.
func lookupError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// tokenBucket is a rate limit over the fake's clock.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(now time.Time, rate, burst float64) bool {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(burst, b.tokens+d.Seconds()*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
