// Package bedrock calls Amazon Bedrock Runtime through aws-sdk-go-v2:
// InvokeModel, which carries a model's own request body (Aurora's
// aws_bedrock_invoke_model functions, Redshift's REQUEST_TYPE RAW), and
// Converse, the provider-independent chat API (Redshift's REQUEST_TYPE
// UNIFIED).
//
// Bedrock has no batch API: one row is one request. Concurrency, the
// circuit breaker and per-statement limits are the caller's (package
// mlfunc), as for every other model endpoint; retries of throttled and
// failed requests are the SDK's standard retryer, without its client-side
// retry quota, which would turn a burst of throttling into failures.
package bedrock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sibyldb/sibyldb/internal/remote"
)

// Options configure a Client.
type Options struct {
	// MaxAttempts bounds the attempts of one call, first one included
	// (default 4).
	MaxAttempts int
	// HTTPClient sends the requests (default: remote.NewHTTPClient, which
	// refuses redirects).
	HTTPClient *http.Client
	// Counters, when set, is told of every attempt, response and retry.
	Counters remote.Counters
}

// Client calls Bedrock Runtime with the region, credentials and endpoint
// of an AWS configuration (AWS_ENDPOINT_URL_BEDROCK_RUNTIME overrides the
// endpoint, as for every AWS SDK).
type Client struct {
	api      *bedrockruntime.Client
	counters remote.Counters
}

// New returns a client for cfg.
func New(cfg aws.Config, o Options) *Client {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 4
	}
	if o.HTTPClient == nil {
		o.HTTPClient = remote.NewHTTPClient(16)
	}
	std := retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.RateLimiter = ratelimit.None
	})
	api := bedrockruntime.NewFromConfig(cfg, func(bo *bedrockruntime.Options) {
		bo.HTTPClient = o.HTTPClient
		bo.Retryer = &countingRetryer{RetryerV2: std, counters: o.Counters}
	})
	return &Client{api: api, counters: o.Counters}
}

// countingRetryer tells the counters of each retry the SDK makes.
type countingRetryer struct {
	aws.RetryerV2
	counters remote.Counters
}

func (r *countingRetryer) RetryDelay(attempt int, err error) (d time.Duration, e error) {
	if r.counters != nil {
		r.counters.Retry()
	}
	return r.RetryerV2.RetryDelay(attempt, err)
}

// InvokeModel sends body, the model's own request, and returns the model's
// response body.
func (c *Client) InvokeModel(ctx context.Context, modelID, contentType, accept string, body []byte) ([]byte, error) {
	b, _, err := c.InvokeModelUsage(ctx, modelID, contentType, accept, body)
	return b, err
}

// Usage is the tokens one call used; Known is false when the model did not
// say.
type Usage struct {
	InputTokens, OutputTokens int64
	Known                     bool
}

// InvokeModelUsage is InvokeModel that also returns the tokens used:
// Bedrock's X-Amzn-Bedrock-Input-Token-Count and -Output-Token-Count
// response headers, which InvokeModel sends for every model, else the
// counts in the response bodies of the Anthropic, Titan and Llama models.
func (c *Client) InvokeModelUsage(ctx context.Context, modelID, contentType, accept string, body []byte) ([]byte, Usage, error) {
	c.request()
	out, err := c.api.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{
		ModelId: aws.String(modelID), Body: body,
		ContentType: aws.String(contentType), Accept: aws.String(accept),
	})
	if err != nil {
		return nil, Usage{}, wrap(modelID, err)
	}
	c.response()
	u, ok := headerUsage(awsmiddleware.GetRawResponse(out.ResultMetadata))
	if !ok {
		u = bodyUsage(out.Body)
	}
	return out.Body, u, nil
}

// headerUsage reads the token count headers of a raw HTTP response.
func headerUsage(raw any) (Usage, bool) {
	resp, ok := raw.(*smithyhttp.Response)
	if !ok || resp == nil {
		return Usage{}, false
	}
	in, errIn := strconv.ParseInt(resp.Header.Get("X-Amzn-Bedrock-Input-Token-Count"), 10, 64)
	out, errOut := strconv.ParseInt(resp.Header.Get("X-Amzn-Bedrock-Output-Token-Count"), 10, 64)
	if errIn != nil || errOut != nil || in < 0 || out < 0 {
		return Usage{}, false
	}
	return Usage{InputTokens: in, OutputTokens: out, Known: true}, true
}

// bodyUsage reads the token counts models put in their response bodies:
// Anthropic's usage.input_tokens and output_tokens, Titan's
// inputTextTokenCount and results[].tokenCount, Llama's
// prompt_token_count and generation_token_count.
func bodyUsage(body []byte) Usage {
	var r struct {
		Usage *struct {
			InputTokens  *int64 `json:"input_tokens"`
			OutputTokens *int64 `json:"output_tokens"`
		} `json:"usage"`
		InputTextTokenCount *int64 `json:"inputTextTokenCount"`
		Results             []struct {
			TokenCount int64 `json:"tokenCount"`
		} `json:"results"`
		PromptTokenCount     *int64 `json:"prompt_token_count"`
		GenerationTokenCount *int64 `json:"generation_token_count"`
	}
	if json.Unmarshal(body, &r) != nil {
		return Usage{}
	}
	switch {
	case r.Usage != nil && r.Usage.InputTokens != nil && r.Usage.OutputTokens != nil:
		return Usage{InputTokens: *r.Usage.InputTokens, OutputTokens: *r.Usage.OutputTokens, Known: true}
	case r.InputTextTokenCount != nil:
		u := Usage{InputTokens: *r.InputTextTokenCount, Known: true}
		for _, res := range r.Results {
			u.OutputTokens += res.TokenCount
		}
		return u
	case r.PromptTokenCount != nil && r.GenerationTokenCount != nil:
		return Usage{InputTokens: *r.PromptTokenCount, OutputTokens: *r.GenerationTokenCount, Known: true}
	}
	return Usage{}
}

// Inference is Converse's inference configuration; nil fields are the
// model's defaults.
type Inference struct {
	MaxTokens     *int32
	Temperature   *float32
	TopP          *float32
	StopSequences []string
}

// Reply is a Converse answer.
type Reply struct {
	Text                      string
	StopReason                string
	InputTokens, OutputTokens int64
}

// Converse sends text as one user message and returns the model's text
// answer. additional, when not nil, is passed as the model-specific
// additionalModelRequestFields.
func (c *Client) Converse(ctx context.Context, modelID, text string, inf Inference, additional map[string]any) (Reply, error) {
	in := &bedrockruntime.ConverseInput{
		ModelId: aws.String(modelID),
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: text}},
		}},
	}
	if inf.MaxTokens != nil || inf.Temperature != nil || inf.TopP != nil || inf.StopSequences != nil {
		in.InferenceConfig = &types.InferenceConfiguration{
			MaxTokens: inf.MaxTokens, Temperature: inf.Temperature, TopP: inf.TopP, StopSequences: inf.StopSequences,
		}
	}
	if additional != nil {
		in.AdditionalModelRequestFields = document.NewLazyDocument(additional)
	}
	c.request()
	out, err := c.api.Converse(ctx, in)
	if err != nil {
		return Reply{}, wrap(modelID, err)
	}
	c.response()
	var r Reply
	if msg, ok := out.Output.(*types.ConverseOutputMemberMessage); ok {
		for _, b := range msg.Value.Content {
			if t, ok := b.(*types.ContentBlockMemberText); ok {
				r.Text += t.Value
			}
		}
	} else {
		return Reply{}, &remote.Error{Kind: "Bedrock model", Endpoint: modelID, Message: "Converse answered without a message"}
	}
	r.StopReason = string(out.StopReason)
	if u := out.Usage; u != nil {
		r.InputTokens, r.OutputTokens = int64(aws.ToInt32(u.InputTokens)), int64(aws.ToInt32(u.OutputTokens))
	}
	return r, nil
}

func (c *Client) request() {
	if c.counters != nil {
		c.counters.Request()
	}
}

func (c *Client) response() {
	if c.counters != nil {
		c.counters.Response()
	}
}

// wrap turns an SDK error into a remote.Error naming the model, with the
// HTTP status (0 for transport errors) and Bedrock's own code and message:
// the circuit breaker reads the status, users read the message.
func wrap(modelID string, err error) error {
	e := &remote.Error{Kind: "Bedrock model", Endpoint: modelID}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.Status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && e.Status != 0:
		e.Message = remote.Trim(fmt.Sprintf("%s: %s", ae.ErrorCode(), ae.ErrorMessage()))
	case errors.Is(err, context.Canceled):
		e.Message = "request cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		e.Message = "request timed out"
	default:
		e.Message = remote.Trim(err.Error())
	}
	return e
}
