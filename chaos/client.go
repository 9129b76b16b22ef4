package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/everywherecommerce/fulfilment/internal/testbed"
)

// apiClient calls the starter as the checkout service, store staff and support
// do: JSON over HTTP with a bearer token. A request that gets no answer (the
// starter was killed, a connection was cut) or a 5xx (503 while Temporal or
// PostgreSQL are away) is sent again with the same body, as a real client would;
// the checkout is idempotent per order ID, and the suite judges repeated staff
// and support actions by their answers. With more than one starter (the scale-out
// run) the requests take turns, as behind a load balancer, so an attempt that found
// a starter gone is sent again to the next one.
type apiClient struct {
	bases    []string
	turn     atomic.Uint64
	http     *http.Client
	patience time.Duration
	retries  atomic.Int64 // requests sent again, over the run
}

// answer is the final answer to a request.
type answer struct {
	status int
	body   []byte
	// uncertain is true when an earlier attempt may have reached the workflow
	// (no answer, or a 5xx): a refusal now may be the first attempt's effect.
	uncertain bool
	attempts  int
}

// maxAttempts bounds the attempts of one request (the patience bounds its time).
const maxAttempts = 200

func newAPIClient(bases []string, patience time.Duration) *apiClient {
	return &apiClient{bases: bases, patience: patience, http: &http.Client{
		// A checkout waits for the capture; the starter's write timeout is 45 s.
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
	}}
}

// call sends the request until it gets an answer that is not a 5xx, or its
// patience runs out.
func (c *apiClient) call(ctx context.Context, method, path, token string, body any) (answer, error) {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{}, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		payload = b
	}
	deadline := time.Now().Add(c.patience)
	backoff := 300 * time.Millisecond
	var a answer
	var last error
	for a.attempts < maxAttempts && time.Now().Before(deadline) {
		if a.attempts > 0 {
			c.retries.Add(1)
		}
		a.attempts++
		status, data, wait, err := c.once(ctx, method, path, token, payload)
		switch {
		case ctx.Err() != nil:
			return a, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		case err == nil && status < 500:
			a.status, a.body = status, data
			return a, nil
		case err != nil:
			last = err
		default:
			last = fmt.Errorf("status %d: %s", status, truncate(string(data), 200))
		}
		a.uncertain = true
		if wait <= 0 {
			wait = backoff
			backoff = min(backoff*3/2, 3*time.Second)
		}
		if err := testbed.Sleep(ctx, min(wait, 5*time.Second)); err != nil {
			return a, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return a, fmt.Errorf("%s %s: no answer after %d attempts in %s: %w", method, path, a.attempts, c.patience, last)
}

// once sends one attempt; wait is the answer's Retry-After, if any.
func (c *apiClient) once(ctx context.Context, method, path, token string, payload []byte) (int, []byte, time.Duration, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	base := c.bases[(c.turn.Add(1)-1)%uint64(len(c.bases))]
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("new request: %w", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	var wait time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	return resp.StatusCode, data, wait, nil
}

// problemType is the last part of an RFC 9457 problem's type URI ("wrong-stage").
func problemType(body []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(body, &p) != nil {
		return ""
	}
	for i := len(p.Type) - 1; i >= 0; i-- {
		if p.Type[i] == '/' {
			return p.Type[i+1:]
		}
	}
	return p.Type
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
