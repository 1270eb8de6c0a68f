package testserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BedrockServer is a loopback Amazon Bedrock Runtime: it speaks the
// restJson1 protocol of InvokeModel (POST /model/{id}/invoke) and Converse
// (POST /model/{id}/converse) exactly as aws-sdk-go-v2 sends and reads it,
// refuses requests whose SigV4 signature does not verify for its
// credentials, and counts what it receives.
//
// Its models: InvokeModel with {"inputText": s} answers
// {"outputText": upper(s), "inputTextTokenCount": words(s)}; Converse answers
// upper(text) with usage inputTokens = words(text), outputTokens =
// words(answer), stopping early at a stop sequence and cutting the answer to
// maxTokens words.
type BedrockServer struct {
	URL                          string
	AccessKey, SecretKey, Region string

	requests, badSignatures atomic.Int64
	mu                      sync.Mutex
	delay                   time.Duration
	throttle                int64 // requests answered 429 from the start
	bodies                  []BedrockRequest
	inflight, maxInflight   int
	srv                     *httptest.Server
}

// BedrockRequest is one request received.
type BedrockRequest struct {
	Op, ModelID, ContentType, Accept string
	Body                             []byte
}

// StartBedrockServer starts a server closed at the end of the test.
func StartBedrockServer(t testing.TB) *BedrockServer {
	b := NewBedrockServer()
	t.Cleanup(b.Close)
	return b
}

// NewBedrockServer starts a server; Close stops it.
func NewBedrockServer() *BedrockServer {
	b := &BedrockServer{AccessKey: "AKIDBEDROCKTEST", SecretKey: "bedrock/secret/key/for/tests", Region: "us-east-1"}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	b.URL = b.srv.URL
	return b
}

// invokeEmbedding answers a Titan Text Embeddings request:
// {"inputText": s} gets {"embedding": TextVector(s), "inputTextTokenCount"}.
func (b *BedrockServer) invokeEmbedding(w http.ResponseWriter, rec BedrockRequest) {
	var in struct {
		InputText *string `json:"inputText"`
	}
	if err := json.Unmarshal(rec.Body, &in); err != nil || in.InputText == nil {
		bedrockError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: required key [inputText] not found")
		return
	}
	b.record(rec)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"embedding": TextVector(*in.InputText), "inputTextTokenCount": words(*in.InputText)})
}

// Close stops the server.
func (b *BedrockServer) Close() { b.srv.Close() }

// Env is the environment that points a SibylDB server's AWS SDK at b.
func (b *BedrockServer) Env() []string {
	return []string{
		"AWS_REGION=" + b.Region, "AWS_ACCESS_KEY_ID=" + b.AccessKey, "AWS_SECRET_ACCESS_KEY=" + b.SecretKey,
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" + b.URL,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true",
	}
}

// SetDelay makes every request take d.
func (b *BedrockServer) SetDelay(d time.Duration) { b.mu.Lock(); b.delay = d; b.mu.Unlock() }

// Throttle answers the next n requests with 429 ThrottlingException.
func (b *BedrockServer) Throttle(n int64) { b.mu.Lock(); b.throttle = n; b.mu.Unlock() }

// Requests is the number of requests received, throttled ones included.
func (b *BedrockServer) Requests() int64 { return b.requests.Load() }

// BadSignatures is the number of requests refused for their signature.
func (b *BedrockServer) BadSignatures() int64 { return b.badSignatures.Load() }

// MaxInflight is the most requests that were in progress at once.
func (b *BedrockServer) MaxInflight() int { b.mu.Lock(); defer b.mu.Unlock(); return b.maxInflight }

// Received lists the requests answered (not throttled), in arrival order.
func (b *BedrockServer) Received() []BedrockRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BedrockRequest(nil), b.bodies...)
}

// Reset clears the counts.
func (b *BedrockServer) Reset() {
	b.requests.Store(0)
	b.badSignatures.Store(0)
	b.mu.Lock()
	b.bodies, b.maxInflight = nil, 0
	b.mu.Unlock()
}

var authRE = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// verify recomputes the request's SigV4 signature with the server's
// credentials.
func (b *BedrockServer) verify(r *http.Request, body []byte) error {
	m := authRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return fmt.Errorf("no SigV4 Authorization header")
	}
	if m[1] != b.AccessKey || m[3] != b.Region || m[4] != "bedrock" {
		return fmt.Errorf("credential scope %s/%s/%s", m[1], m[3], m[4])
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("payload hash mismatch")
	}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	req, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
	for _, h := range strings.Split(m[5], ";") {
		if h != "host" && h != "content-length" {
			req.Header.Set(h, r.Header.Get(h))
		}
	}
	creds := aws.Credentials{AccessKeyID: b.AccessKey, SecretAccessKey: b.SecretKey}
	if err := v4.NewSigner().SignHTTP(r.Context(), creds, req, hex.EncodeToString(sum[:]), "bedrock", b.Region, when); err != nil {
		return err
	}
	if got := authRE.FindStringSubmatch(req.Header.Get("Authorization")); got == nil || got[6] != m[6] {
		return fmt.Errorf("signature mismatch")
	}
	return nil
}

func bedrockError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", code+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg})
}

func words(s string) int { return len(strings.Fields(s)) }

func (b *BedrockServer) serve(w http.ResponseWriter, r *http.Request) {
	b.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	if err := b.verify(r, body); err != nil {
		b.badSignatures.Add(1)
		bedrockError(w, http.StatusForbidden, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided: "+err.Error())
		return
	}
	b.mu.Lock()
	delay := b.delay
	throttled := b.throttle > 0
	if throttled {
		b.throttle--
	}
	b.inflight++
	b.maxInflight = max(b.maxInflight, b.inflight)
	b.mu.Unlock()
	defer func() { b.mu.Lock(); b.inflight--; b.mu.Unlock() }()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if throttled {
		bedrockError(w, http.StatusTooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 3 || parts[0] != "model" {
		bedrockError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.URL.Path)
		return
	}
	modelID, _ := url.PathUnescape(parts[1])
	rec := BedrockRequest{Op: parts[2], ModelID: modelID, ContentType: r.Header.Get("Content-Type"), Accept: r.Header.Get("Accept"), Body: body}
	if strings.HasPrefix(modelID, "missing") {
		bedrockError(w, http.StatusNotFound, "ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier.")
		return
	}
	switch parts[2] {
	case "invoke":
		if strings.HasPrefix(modelID, "amazon.titan-embed") {
			b.invokeEmbedding(w, rec)
			return
		}
		var in struct {
			InputText *string `json:"inputText"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.InputText == nil {
			bedrockError(w, http.StatusBadRequest, "ValidationException", "Malformed input request: required key [inputText] not found")
			return
		}
		b.record(rec)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", fmt.Sprint(words(*in.InputText)))
		w.Header().Set("X-Amzn-Bedrock-Output-Token-Count", fmt.Sprint(words(*in.InputText)))
		_ = json.NewEncoder(w).Encode(map[string]any{"outputText": strings.ToUpper(*in.InputText), "inputTextTokenCount": words(*in.InputText)})
	case "converse":
		var in struct {
			Messages []struct {
				Role    string `json:"role"`
				Content []struct {
					Text string `json:"text"`
				} `json:"content"`
			} `json:"messages"`
			InferenceConfig *struct {
				MaxTokens     *int     `json:"maxTokens"`
				StopSequences []string `json:"stopSequences"`
			} `json:"inferenceConfig"`
		}
		if err := json.Unmarshal(body, &in); err != nil || len(in.Messages) == 0 || len(in.Messages[0].Content) == 0 {
			bedrockError(w, http.StatusBadRequest, "ValidationException", "The model returned the following errors: malformed messages")
			return
		}
		b.record(rec)
		text := in.Messages[len(in.Messages)-1].Content[0].Text
		answer, stop := strings.ToUpper(text), "end_turn"
		if ic := in.InferenceConfig; ic != nil {
			for _, s := range ic.StopSequences {
				if i := strings.Index(answer, s); i >= 0 {
					answer, stop = answer[:i], "stop_sequence"
				}
			}
			if ic.MaxTokens != nil && words(answer) > *ic.MaxTokens {
				answer, stop = strings.Join(strings.Fields(answer)[:*ic.MaxTokens], " "), "max_tokens"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": []map[string]string{{"text": answer}}}},
			"stopReason": stop,
			"usage":      map[string]int{"inputTokens": words(text), "outputTokens": words(answer), "totalTokens": words(text) + words(answer)},
			"metrics":    map[string]int{"latencyMs": int(delay / time.Millisecond)},
		})
	default:
		bedrockError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+parts[2])
	}
}

func (b *BedrockServer) record(r BedrockRequest) {
	b.mu.Lock()
	b.bodies = append(b.bodies, r)
	b.mu.Unlock()
}
