// Package s3 is the export's destination in an S3 bucket (PutObject,
// GetObject, ListObjectsV2, DeleteObject under a key prefix). It is the
// only export package that imports the S3 SDK.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/iamwatch/iamwatch/export"
)

// api is the part of the S3 client the destination uses.
type api interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Destination stores export files in a bucket under a prefix. Safe for
// concurrent use.
type Destination struct {
	client api
	bucket string
	prefix string // "" or ending in "/".
}

var _ export.Destination = (*Destination)(nil)

// New returns the destination s3://bucket/prefix.
func New(client *s3.Client, bucket, prefix string) *Destination {
	return newDestination(client, bucket, prefix)
}

func newDestination(c api, bucket, prefix string) *Destination {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &Destination{client: c, bucket: bucket, prefix: prefix}
}

// ParseURL splits s3://bucket/prefix.
func ParseURL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("bad S3 location %q: want s3://bucket[/prefix]", s)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

// URL returns s3://bucket/prefix of the destination.
func (d *Destination) URL() string {
	return "s3://" + d.bucket + "/" + d.prefix
}

// Put implements export.Destination. S3 makes an object visible only once
// it is whole.
func (d *Destination) Put(ctx context.Context, key string, r io.ReadSeeker, size int64) error {
	ct := "application/octet-stream"
	if strings.HasSuffix(key, ".json") {
		ct = "application/json"
	}
	_, err := d.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(d.bucket),
		Key:           aws.String(d.prefix + key),
		Body:          r,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(ct),
	})
	if err != nil {
		return fmt.Errorf("s3: put s3://%s/%s%s: %w", d.bucket, d.prefix, key, err)
	}
	return nil
}

// Get implements export.Destination.
func (d *Destination) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(d.prefix + key)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) {
			err = fmt.Errorf("%w: %w", fs.ErrNotExist, err)
		}
		return nil, fmt.Errorf("s3: get s3://%s/%s%s: %w", d.bucket, d.prefix, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3: get s3://%s/%s%s: %w", d.bucket, d.prefix, key, err)
	}
	return b, nil
}

// List implements export.Destination, paging through ListObjectsV2.
func (d *Destination) List(ctx context.Context, prefix string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(d.bucket), Prefix: aws.String(d.prefix + prefix)}
	var keys []string
	for p := s3.NewListObjectsV2Paginator(d.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3: list s3://%s/%s%s: %w", d.bucket, d.prefix, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), d.prefix))
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Delete implements export.Destination.
func (d *Destination) Delete(ctx context.Context, key string) error {
	_, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(d.prefix + key)})
	if err != nil {
		return fmt.Errorf("s3: delete s3://%s/%s%s: %w", d.bucket, d.prefix, key, err)
	}
	return nil
}
