package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestRealSageMakerPathIsSigV4Signed points the AWS path (no CREATE
// ENDPOINT, no aws_sagemaker_endpoint_url) at a local server through the
// SDKs' standard endpoint override, and checks the request is a SageMaker
// runtime invocation carrying a valid SigV4 signature for the configured
// credentials.
func TestRealSageMakerPathIsSigV4Signed(t *testing.T) {
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) { b.Score = doubler })
	const akid, secret, region = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-west-2"
	srv := testserver.StartWithEnv(t, []string{
		"AWS_REGION=" + region, "AWS_ACCESS_KEY_ID=" + akid, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=" + model.URL,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
	})
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE aws", "USE aws",
		"CREATE FUNCTION churn(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'churn-xgb'")
	require.EqualValues(t, 84, queryInt(t, srv.DB("aws"), "SELECT churn(42)"))

	rec := model.Last()
	require.Equal(t, "/endpoints/churn-xgb/invocations", rec.Path)
	require.Equal(t, "text/csv", rec.Header.Get("Content-Type"))
	require.Equal(t, "42\n", string(rec.Body))
	auth := rec.Header.Get("Authorization")
	m := regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=[0-9a-f]{64}$`).FindStringSubmatch(auth)
	require.NotNil(t, m, "Authorization: %s", auth)
	require.Equal(t, akid, m[1])
	require.Equal(t, region, m[3])
	require.Equal(t, "sagemaker", m[4])

	// Re-sign the received request with the same credentials and time: the
	// signatures match only if the server signed exactly this request.
	when, err := time.Parse("20060102T150405Z", rec.Header.Get("X-Amz-Date"))
	require.NoError(t, err)
	req, err := http.NewRequest(rec.Method, "http://"+rec.Host+rec.Path, bytes.NewReader(rec.Body))
	require.NoError(t, err)
	req.ContentLength = int64(len(rec.Body))
	for _, h := range strings.Split(m[5], ";") {
		if h != "host" && h != "x-amz-date" && h != "content-length" {
			req.Header.Set(h, rec.Header.Get(h))
		}
	}
	sum := sha256.Sum256(rec.Body)
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "sagemaker", region, when))
	require.Equal(t, auth, req.Header.Get("Authorization"))
}
