package testenv

import (
	"bytes"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Fault is a kind of failure a FaultProxy injects into one response.
type Fault int

// The faults a FaultProxy injects. Each is something registries and the networks in front of
// them really do; a client must either recover (retry) or return an error, never a wrong result.
const (
	// FaultNone passes the request through untouched.
	FaultNone Fault = iota
	// FaultTooManyRequests answers 429 with Retry-After: 0 without forwarding the request.
	FaultTooManyRequests
	// FaultUnavailable answers 503 without forwarding the request.
	FaultUnavailable
	// FaultBadGateway forwards the request, then answers 502 instead of the registry's response:
	// the registry may have acted on it.
	FaultBadGateway
	// FaultReset forwards the request, then closes the connection without an answer.
	FaultReset
	// FaultTruncated forwards the request and sends the response's headers, including its
	// Content-Length, but only half of its body.
	FaultTruncated
	// FaultCorrupted forwards the request and answers with one byte of the body changed, the
	// length unchanged.
	FaultCorrupted
	numFaults
)

var faultNames = [...]string{"none", "429", "503", "502 after forwarding", "reset after forwarding", "truncated body", "corrupted body"}

// String names the fault.
func (f Fault) String() string {
	if f < 0 || int(f) >= len(faultNames) {
		return "fault(" + strconv.Itoa(int(f)) + ")"
	}
	return faultNames[f]
}

// FaultProxy is a reverse proxy in front of a registry that injects a Fault into a fixed share of
// its responses, chosen by a seeded random source so a failing run can be repeated. It is safe
// for concurrent use.
type FaultProxy struct {
	srv    *httptest.Server
	proxy  *httputil.ReverseProxy
	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	counts [numFaults]int
	next   Fault // injected into the next forced responses
	forced int
}

// NewFaultProxy starts a proxy on loopback in front of the plain-HTTP registry at hostPort that
// injects a fault into rate (0 to 1) of its responses, every kind equally often, and returns it;
// it is closed when the test ends. Host returns the address clients use instead of hostPort.
func NewFaultProxy(t testing.TB, hostPort string, rate float64, seed uint64) *FaultProxy {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: hostPort}
	p := &FaultProxy{
		proxy: httputil.NewSingleHostReverseProxy(target),
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		rate:  rate,
	}
	p.proxy.ErrorLog = log.New(io.Discard, "", 0)
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// Host returns the proxy's host:port.
func (p *FaultProxy) Host() string { return hostPort(p.srv) }

// SetRate changes the share of responses that get a fault; 0 turns faults off.
func (p *FaultProxy) SetRate(rate float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rate = rate
}

// FailNext makes the next n responses get fault f, whatever the rate.
func (p *FaultProxy) FailNext(f Fault, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next, p.forced = f, n
}

// Counts returns how many responses got each fault so far, FaultNone included.
func (p *FaultProxy) Counts() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, numFaults)
	for f, n := range p.counts {
		out[Fault(f)] = n
	}
	return out
}

func (p *FaultProxy) pick() Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := FaultNone
	if p.forced > 0 {
		p.forced--
		f = p.next
	} else if p.rng.Float64() < p.rate {
		f = Fault(1 + p.rng.IntN(int(numFaults)-1))
	}
	p.counts[f]++
	return f
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	fault := p.pick()
	switch fault {
	case FaultNone:
		p.proxy.ServeHTTP(w, r)
		return
	case FaultTooManyRequests:
		w.Header().Set("Retry-After", "0")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	case FaultUnavailable:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	rec := httptest.NewRecorder()
	p.proxy.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	switch fault {
	case FaultBadGateway:
		http.Error(w, "bad gateway", http.StatusBadGateway)
	case FaultReset:
		hangUp(w, false)
	case FaultTruncated:
		copyHeader(w.Header(), rec.Header())
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body[:len(body)/2])
		hangUp(w, true)
	case FaultCorrupted:
		changed := bytes.Clone(body)
		if len(changed) > 0 && r.Method == http.MethodGet {
			changed[len(changed)/2] ^= 0x20
		}
		copyHeader(w.Header(), rec.Header())
		w.Header().Set("Content-Length", strconv.Itoa(len(changed)))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(changed)
	}
}

// hangUp closes the client's connection without finishing the response, after sending what was
// written so far when flush is set.
func hangUp(w http.ResponseWriter, flush bool) {
	if f, ok := w.(http.Flusher); ok && flush {
		f.Flush()
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("testenv: response writer cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		dst[k] = v
	}
}
