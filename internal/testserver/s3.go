package testserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an in-process S3 server (github.com/johannesboyne/gofakes3 over
// memory) on 127.0.0.1. Clients must use path-style addressing. Safe for
// concurrent use.
type S3 struct {
	URL string

	backend *s3mem.Backend
	gets    atomic.Int64
	lists   atomic.Int64
}

// StartS3 starts the server with the given buckets and stops it in t.Cleanup.
func StartS3(t testing.TB, buckets ...string) *S3 {
	t.Helper()
	s := &S3{backend: s3mem.New()}
	for _, b := range buckets {
		if err := s.backend.CreateBucket(b); err != nil {
			t.Fatalf("testserver: s3: create bucket %s: %v", b, err)
		}
	}
	h := gofakes3.New(s.backend, gofakes3.WithAutoBucket(false)).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
			s.lists.Add(1)
		case r.Method == http.MethodGet:
			s.gets.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Put stores an object.
func (s *S3) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	if _, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatalf("testserver: s3: put %s/%s: %v", bucket, key, err)
	}
}

// Gets returns how many object GETs the server answered; Lists how many
// ListObjectsV2 calls.
func (s *S3) Gets() int64  { return s.gets.Load() }
func (s *S3) Lists() int64 { return s.lists.Load() }
