package sign

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// tsaTransport carries the requests of one timestamp authority and turns every failure into a
// *ServiceError naming it: sigstore-go's timestamp client reports refusals with untyped errors.
// It retries 5xx and 429 answers itself, with the same exponential back-off sigstore-go would
// use, so the client is given no retries of its own.
type tsaTransport struct {
	url     string
	base    http.RoundTripper
	retries uint
}

func (t *tsaTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	for attempt := uint(0); ; attempt++ {
		r := req
		if attempt > 0 {
			if req.GetBody == nil {
				return nil, &ServiceError{Service: "tsa", URL: t.url, Err: fmt.Errorf("request cannot be retried")}
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, &ServiceError{Service: "tsa", URL: t.url, Err: err}
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			return nil, &ServiceError{Service: "tsa", URL: t.url, Err: err}
		}
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusCreated {
			return resp, nil
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
		retryable := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		if !retryable || attempt >= t.retries {
			return nil, &ServiceError{Service: "tsa", URL: t.url, Err: err}
		}
		timer := time.NewTimer(time.Duration(1<<attempt) * time.Second)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, &ServiceError{Service: "tsa", URL: t.url, Err: req.Context().Err()}
		case <-timer.C:
		}
	}
}
