package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/sibyldb/sibyldb/internal/recovered"
)

// Multipart upload sizing: a part is buffered in memory before it is
// sent, so one writer holds at most (concurrency+1) parts.
const (
	uploadPartSize    = 16 << 20
	uploadConcurrency = 3
)

// Opener resolves locations to stores. It loads the AWS configuration
// (the standard credential chain: environment, shared files, SSO, instance
// roles) once and keeps one client per region and endpoint; it is safe for
// concurrent use.
type Opener struct {
	// stall is the longest a connection may make no progress, in
	// nanoseconds: the timeout of the latest Open.
	stall atomic.Int64

	mu      sync.Mutex
	cfg     *aws.Config
	clients map[string]*s3.Client
}

// Open returns the store of loc. file:// locations are confined to
// fileDir (secure_file_priv). timeout bounds every metadata call (list,
// head, delete) and is the longest a transfer may stall (no bytes moving)
// before it fails; it is read per call so a changed system variable takes
// effect at once.
func (o *Opener) Open(ctx context.Context, loc Location, fileDir string, timeout time.Duration) (Store, error) {
	return o.OpenWith(ctx, loc, fileDir, timeout, nil)
}

// Credentials are named storage credentials (CREATE STORAGE CREDENTIAL):
// a static key pair, and optionally the region and S3-compatible endpoint
// to use them with, instead of the AWS credential chain.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Region, Endpoint                           string
}

// OpenWith is Open with cred instead of the AWS credential chain (nil
// means the chain).
func (o *Opener) OpenWith(ctx context.Context, loc Location, fileDir string, timeout time.Duration, cred *Credentials) (Store, error) {
	if loc.Scheme == "file" {
		return FileStore{Dir: fileDir}, nil
	}
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	o.stall.Store(int64(timeout))
	client, err := o.client(ctx, loc, cred)
	if err != nil {
		return nil, err
	}
	return &S3Store{Client: client, Bucket: loc.Bucket, Timeout: timeout}, nil
}

func (o *Opener) client(ctx context.Context, loc Location, cred *Credentials) (*s3.Client, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cfg == nil {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		httpClient := awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = 10 * time.Second }).
			WithTransportOptions(func(tr *http.Transport) {
				tr.ResponseHeaderTimeout = 60 * time.Second
				tr.MaxIdleConnsPerHost = 16
				inner := tr.DialContext
				// Every read and write must make progress within the stall
				// timeout, so a server that stops answering mid-transfer
				// fails the statement instead of hanging it.
				tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
					c, err := inner(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return &stallConn{Conn: c, timeout: &o.stall}, nil
				}
			})
		cfg, err := config.LoadDefaultConfig(lctx, config.WithHTTPClient(httpClient), config.WithRetryMaxAttempts(3))
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		o.cfg = &cfg
		o.clients = map[string]*s3.Client{}
	}
	region := loc.Region
	if region == "" && cred != nil {
		region = cred.Region
	}
	if region == "" {
		region = o.cfg.Region
	}
	if region == "" {
		region = "us-east-1"
	}
	endpoint := loc.Endpoint
	if endpoint == "" && cred != nil {
		endpoint = cred.Endpoint
	}
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	k := region + " " + endpoint
	if cred != nil {
		k += " " + cred.AccessKeyID + " " + cred.SecretAccessKey + " " + cred.SessionToken
	}
	if c, ok := o.clients[k]; ok {
		return c, nil
	}
	c := s3.NewFromConfig(*o.cfg, func(opt *s3.Options) {
		opt.Region = region
		if cred != nil {
			opt.Credentials = credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, cred.SessionToken)
		}
		if endpoint != "" {
			// S3-compatible servers rarely have per-bucket DNS names.
			opt.BaseEndpoint = aws.String(endpoint)
			opt.UsePathStyle = true
		}
		// The flexible-checksum defaults of newer SDKs are not understood
		// by every S3-compatible server; checksums only where required.
		opt.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		opt.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	o.clients[k] = c
	return c, nil
}

// stallConn fails a read or write that makes no progress for timeout.
type stallConn struct {
	net.Conn
	timeout *atomic.Int64
}

func (c *stallConn) Read(p []byte) (int, error) {
	_ = c.Conn.SetReadDeadline(time.Now().Add(time.Duration(c.timeout.Load())))
	return c.Conn.Read(p)
}

func (c *stallConn) Write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(time.Duration(c.timeout.Load())))
	return c.Conn.Write(p)
}

// S3Store is one bucket of S3 or an S3-compatible server.
type S3Store struct {
	Client  *s3.Client
	Bucket  string
	Timeout time.Duration
}

var _ Store = (*S3Store)(nil)

// Create streams the object through a multipart upload (a single PUT when
// it is smaller than one part). An aborted or failed upload is aborted on
// the server, so no partial object appears.
func (s *S3Store) Create(ctx context.Context, key string) (Writer, error) {
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	up := manager.NewUploader(s.Client, func(u *manager.Uploader) {
		u.PartSize = uploadPartSize
		u.Concurrency = uploadConcurrency
	})
	w := &s3Writer{pw: pw, cancel: cancel, done: make(chan struct{}), key: key, bucket: s.Bucket}
	go func() {
		defer close(w.done)
		err := upload(ctx, up, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: pr})
		w.err = err
		// Unblock a writer waiting on the pipe.
		_ = pr.CloseWithError(errOr(err, io.ErrClosedPipe))
	}()
	return w, nil
}

// upload runs the multipart upload, a panic in the SDK becoming the
// upload's error.
func upload(ctx context.Context, up *manager.Uploader, in *s3.PutObjectInput) (err error) {
	defer recovered.Capture(&err)
	_, err = up.Upload(ctx, in)
	return err
}

func errOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

type s3Writer struct {
	pw          *io.PipeWriter
	cancel      context.CancelFunc
	done        chan struct{}
	err         error
	key, bucket string
	closed      bool
}

func (w *s3Writer) Write(p []byte) (int, error) {
	n, err := w.pw.Write(p)
	if err != nil {
		<-w.done
		return n, classify(errOr(w.err, err), w.bucket, w.key)
	}
	return n, nil
}

func (w *s3Writer) Close() error {
	if w.closed {
		return errors.New("writer already closed")
	}
	w.closed = true
	_ = w.pw.Close()
	<-w.done
	w.cancel()
	if w.err != nil {
		return classify(w.err, w.bucket, w.key)
	}
	return nil
}

var errAborted = errors.New("upload aborted")

func (w *s3Writer) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	_ = w.pw.CloseWithError(errAborted)
	<-w.done
	w.cancel()
}

// Open implements Store.
func (s *S3Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, classify(err, s.Bucket, key)
	}
	return out.Body, nil
}

// List implements Store.
func (s *S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		cctx, cancel := context.WithTimeout(ctx, s.Timeout)
		page, err := p.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, classify(err, s.Bucket, prefix)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); !strings.HasSuffix(k, "/") {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil // S3 lists in ascending UTF-8 key order
}

// Exists implements Store.
func (s *S3Store) Exists(ctx context.Context, key string) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err := s.Client.HeadObject(cctx, &s3.HeadObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err == nil {
		return true, nil
	}
	if err = classify(err, s.Bucket, key); errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return false, err
}

// Delete implements Store.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	cctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	_, err := s.Client.DeleteObject(cctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return classify(err, s.Bucket, key)
	}
	return nil
}

// classify wraps an SDK error with the sentinel it means, keeping the
// server's message.
func classify(err error, bucket, key string) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchBucket":
			return fmt.Errorf("bucket '%s': %w", bucket, ErrNoBucket)
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "InvalidToken", "ExpiredToken":
			return fmt.Errorf("s3://%s/%s: %w (%s)", bucket, key, ErrAccessDenied, api.ErrorCode())
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrNotFound)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusForbidden:
			return fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrAccessDenied)
		case http.StatusNotFound:
			return fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrNotFound)
		}
	}
	return fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
}
