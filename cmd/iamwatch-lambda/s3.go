package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// s3API is the S3 call the real-time function makes: reading trail log
// files named by S3 notifications. The template grants exactly it.
type s3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ s3API = (*s3.Client)(nil)

// objectReader is the lambda.ObjectReader over S3.
type objectReader struct{ client s3API }

func (r objectReader) Open(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := r.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("s3: get object: %w", err)
	}
	return out.Body, nil
}
