// Package objstore is object storage for SibylDB's data import and export:
// Amazon S3 and S3-compatible servers (MinIO, versitygw, ...) and local
// files, behind one small interface (streaming writer, reader, list by
// prefix, exists, delete). Aurora MySQL's URI forms select the store.
package objstore

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
)

// Location is a parsed object URI.
type Location struct {
	// Scheme is "s3" for every S3 form and "file" for local files.
	Scheme string
	// Region comes from an s3-REGION:// URI or an AWS host name; empty
	// means the configured default.
	Region string
	// Endpoint is scheme://host[:port] of an S3-compatible server given in
	// an http(s):// URI (addressed path-style); empty means AWS or the
	// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL override.
	Endpoint string
	// Bucket is the S3 bucket (empty for files).
	Bucket string
	// Key is the object key or prefix; for files, the absolute path.
	Key string

	// form is how the URI was written, so derived URIs (parts, manifest
	// entries) are written the same way.
	form string
}

var (
	s3RegionScheme = regexp.MustCompile(`^s3-([a-z0-9-]+)$`)
	awsHost        = regexp.MustCompile(`^s3[.-]([a-z0-9-]+)\.amazonaws\.com$`)
)

// ParseURI reads the URI forms Aurora MySQL accepts, plus file:// for local
// disk and http:// for S3-compatible servers without TLS:
//
//	s3://bucket/key              region from the AWS configuration
//	s3-REGION://bucket/key       explicit region
//	https://host[:port]/bucket/key   S3-compatible server, path-style
//	file:///absolute/path
func ParseURI(uri string) (Location, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || rest == "" {
		return Location{}, fmt.Errorf("invalid URI %q: expected s3://bucket/key, s3-REGION://bucket/key, https://host/bucket/key or file:///path", uri)
	}
	scheme = strings.ToLower(scheme)
	switch {
	case scheme == "file":
		if !strings.HasPrefix(rest, "/") {
			return Location{}, fmt.Errorf("invalid URI %q: file URIs need an absolute path (file:///path)", uri)
		}
		p, err := url.PathUnescape(rest)
		if err != nil {
			return Location{}, fmt.Errorf("invalid URI %q: %w", uri, err)
		}
		return Location{Scheme: "file", Key: path.Clean(p), form: "file://"}, nil
	case scheme == "s3" || s3RegionScheme.MatchString(scheme):
		bucket, key, _ := strings.Cut(rest, "/")
		if err := checkBucket(uri, bucket); err != nil {
			return Location{}, err
		}
		loc := Location{Scheme: "s3", Bucket: bucket, Key: key, form: scheme + "://"}
		if m := s3RegionScheme.FindStringSubmatch(scheme); m != nil {
			loc.Region = m[1]
		}
		return loc, nil
	case scheme == "https" || scheme == "http":
		host, p, _ := strings.Cut(rest, "/")
		if host == "" {
			return Location{}, fmt.Errorf("invalid URI %q: no host", uri)
		}
		bucket, key, _ := strings.Cut(p, "/")
		if err := checkBucket(uri, bucket); err != nil {
			return Location{}, err
		}
		loc := Location{Scheme: "s3", Endpoint: scheme + "://" + host, Bucket: bucket, Key: key, form: scheme + "://" + host + "/"}
		if m := awsHost.FindStringSubmatch(strings.ToLower(host)); m != nil {
			loc.Region = m[1]
		}
		return loc, nil
	}
	return Location{}, fmt.Errorf("invalid URI %q: unsupported scheme %q (use s3, s3-REGION, https or file)", uri, scheme)
}

func checkBucket(uri, bucket string) error {
	if bucket == "" {
		return fmt.Errorf("invalid URI %q: no bucket", uri)
	}
	return nil
}

// WithKey is the location of another object in the same bucket.
func (l Location) WithKey(key string) Location {
	l.Key = key
	return l
}

// String writes the location in the form it was given.
func (l Location) String() string {
	if l.Scheme == "file" {
		return "file://" + l.Key
	}
	return l.form + l.Bucket + "/" + l.Key
}

// CanonicalEndpoint writes an endpoint URL as lower-case
// scheme://host[:port], without a default port or a path, so endpoints
// compare as servers; "" for "" or a value that is not a URL.
func CanonicalEndpoint(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Hostname() == "" || u.Scheme == "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	var c string
	switch {
	case port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443":
		if strings.Contains(host, ":") {
			c = scheme + "://[" + host + "]"
		} else {
			c = scheme + "://" + host
		}
	default:
		c = scheme + "://" + net.JoinHostPort(host, port)
	}
	// Refuse what does not read back as the same host (odd forms such as
	// "a://::0" that the parser accepts but cannot write back).
	if back, err := url.Parse(c); err != nil || strings.ToLower(back.Hostname()) != host {
		return ""
	}
	return c
}

// DefaultEndpoint is the S3 endpoint the operator configured for the
// server (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL), canonical; empty
// means Amazon S3.
func DefaultEndpoint() string {
	if e := os.Getenv("AWS_ENDPOINT_URL_S3"); e != "" {
		return CanonicalEndpoint(e)
	}
	return CanonicalEndpoint(os.Getenv("AWS_ENDPOINT_URL"))
}

// OperatorEndpoint reports whether loc's server is one the operator chose
// rather than the statement: none named (s3:// URIs), Amazon S3's own
// https://s3.REGION.amazonaws.com, or DefaultEndpoint.
func OperatorEndpoint(loc Location) bool {
	if loc.Scheme == "file" || loc.Endpoint == "" {
		return true
	}
	e := CanonicalEndpoint(loc.Endpoint)
	if strings.HasPrefix(e, "https://") && awsHost.MatchString(strings.TrimPrefix(e, "https://")) {
		return true
	}
	return e != "" && e == DefaultEndpoint()
}
