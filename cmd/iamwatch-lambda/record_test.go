package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// callRecorder is a proxy in front of a DynamoDB emulator that records each
// (action, table) pair the function's requests make, so a test can compare
// what the code really calls with what its role grants.
type callRecorder struct {
	mu    sync.Mutex
	calls map[[2]string]bool // {"dynamodb:PutItem", "table"}
}

func recordDynamoDB(t *testing.T, endpoint string) (*callRecorder, string) {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rec := &callRecorder{calls: map[[2]string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		var in struct {
			TableName    string
			RequestItems map[string]json.RawMessage
		}
		_ = json.Unmarshal(body, &in)
		rec.mu.Lock()
		if in.TableName != "" {
			rec.calls[[2]string{"dynamodb:" + op, in.TableName}] = true
		}
		for tb := range in.RequestItems {
			rec.calls[[2]string{"dynamodb:" + op, tb}] = true
		}
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

// byTable returns the recorded actions per table.
func (c *callRecorder) byTable() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for k := range c.calls {
		out[k[1]] = append(out[k[1]], k[0])
	}
	return out
}
