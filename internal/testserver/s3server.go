package testserver

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Server is a running versitygw (an S3-compatible gateway) serving a
// posix directory: a real S3 protocol implementation, not a fake.
type S3Server struct {
	t testing.TB
	// URL is http://127.0.0.1:PORT.
	URL string
	// AccessKey and SecretKey are the root credentials.
	AccessKey, SecretKey string
	// Bucket was created at start.
	Bucket string
	// Dir is the posix root (Dir/Bucket holds the objects).
	Dir string

	mu    sync.Mutex // guards cmd
	cmd   *exec.Cmd
	addr  string
	logMu sync.Mutex
	log   bytes.Buffer
}

// VersityGW returns the versitygw binary: $SIBYLDB_VERSITYGW, or the
// repository's bin/versitygw (scripts/install-deps.sh installs it). The
// test is skipped when neither exists.
func VersityGW(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SIBYLDB_VERSITYGW"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("versitygw not installed (run scripts/install-deps.sh or set SIBYLDB_VERSITYGW): %v", err)
	}
	return p
}

// StartS3Server runs versitygw on a free loopback port with a posix
// backend in a temporary directory, creates a bucket, and stops the
// gateway when the test ends.
func StartS3Server(t testing.TB) *S3Server {
	t.Helper()
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	s := &S3Server{t: t, AccessKey: "sibylaccess", SecretKey: "sibylsecret0123456789", Bucket: "sibyl-test",
		Dir: t.TempDir(), addr: addr, URL: "http://" + addr}
	s.Start()
	t.Cleanup(s.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)}); err != nil {
		t.Fatalf("create bucket: %v\n%s", err, s.Log())
	}
	return s
}

// Start (re)starts the gateway on its address and waits until it answers.
func (s *S3Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(VersityGW(s.t), "--access", s.AccessKey, "--secret", s.SecretKey,
		"--port", s.addr, "--quiet", "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = &lockedWriter{mu: &s.logMu, b: &s.log}, &lockedWriter{mu: &s.logMu, b: &s.log}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start versitygw: %v", err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("versitygw did not start on %s", s.addr)
}

// Stop kills the gateway (SIGKILL: in-flight transfers break, as when a
// server dies).
func (s *S3Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		s.cmd = nil
	}
}

// Log is what the gateway printed.
func (s *S3Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// Env is the AWS environment a client of this server needs.
func (s *S3Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_S3=" + s.URL, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
}

// Client is an S3 client of this server with the root credentials.
func (s *S3Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(s.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Put stores an object.
func (s *S3Server) Put(key string, body []byte) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		s.t.Fatalf("put %s: %v", key, err)
	}
}

// Get reads an object.
func (s *S3Server) Get(key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(out.Body)
	return b.Bytes(), err
}

// Keys lists the bucket's keys under prefix.
func (s *S3Server) Keys(prefix string) []string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			s.t.Fatalf("list %s: %v", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

// URI is s3://bucket/key.
func (s *S3Server) URI(key string) string { return fmt.Sprintf("s3://%s/%s", s.Bucket, key) }

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
