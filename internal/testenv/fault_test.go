package testenv

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFaultProxyInjectsEveryFault(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 100)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(backend.Close)
	p := NewFaultProxy(t, hostPort(backend), 1, 7)

	seen := map[string]int{}
	for range 200 {
		resp, err := http.Get("http://" + p.Host() + "/v2/")
		if err != nil {
			seen["transport error"]++
			continue
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			seen["short body"]++
		case resp.StatusCode != http.StatusOK:
			seen[resp.Status]++
		case !bytes.Equal(got, body) && len(got) == len(body):
			seen["changed body"]++
		case bytes.Equal(got, body):
			t.Fatalf("a response passed untouched at fault rate 1")
		}
	}
	for _, want := range []string{"transport error", "short body", "429 Too Many Requests", "503 Service Unavailable", "502 Bad Gateway", "changed body"} {
		if seen[want] == 0 {
			t.Errorf("no %q among 200 faulty responses: %v", want, seen)
		}
	}
	if n := p.Counts()[FaultNone]; n != 0 {
		t.Errorf("Counts()[FaultNone] = %d at rate 1", n)
	}

	p.SetRate(0)
	resp, err := http.Get("http://" + p.Host() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("at rate 0 the body changed")
	}
}
