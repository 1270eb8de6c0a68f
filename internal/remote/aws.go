package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// AWS is access to real Amazon SageMaker runtime endpoints: the standard
// AWS credential chain and region (environment, shared config files,
// instance roles) from aws-sdk-go-v2, and SigV4 signing of the requests our
// own codec and transport send, so batching and retries stay the same as
// for every other endpoint.
type AWS struct {
	cfg    aws.Config
	signer *v4.Signer
	base   string
}

// ErrNoAWSRegion means the credential chain found no region, so AWS is not
// configured here.
var ErrNoAWSRegion = errors.New("no AWS region configured (set AWS_REGION)")

// LoadAWS resolves the default AWS configuration. The runtime URL is
// https://runtime.sagemaker.{region}.amazonaws.com unless
// AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME or AWS_ENDPOINT_URL overrides it, as
// for the AWS SDKs.
func LoadAWS(ctx context.Context) (*AWS, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, ErrNoAWSRegion
	}
	base := os.Getenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME")
	if base == "" {
		base = os.Getenv("AWS_ENDPOINT_URL")
	}
	if base == "" {
		base = "https://runtime.sagemaker." + cfg.Region + ".amazonaws.com"
	}
	return &AWS{cfg: cfg, signer: v4.NewSigner(), base: strings.TrimRight(base, "/")}, nil
}

// Config is the resolved configuration, for the AWS SDK clients of other
// services (Comprehend).
func (a *AWS) Config() aws.Config { return a.cfg }

// Region is the resolved AWS region.
func (a *AWS) Region() string { return a.cfg.Region }

// InvocationsURL is the runtime URL of a SageMaker endpoint.
func (a *AWS) InvocationsURL(endpoint string) string {
	return a.base + "/endpoints/" + endpoint + "/invocations"
}

// Sign signs req for the sagemaker service with SigV4.
func (a *AWS) Sign(ctx context.Context, req *http.Request, body []byte) error {
	creds, err := a.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	return a.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sagemaker", a.cfg.Region, time.Now())
}
