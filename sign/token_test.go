package sign_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/provkit/provkit/provenance"
	"github.com/provkit/provkit/sign"
)

func TestStaticFileEnvTokens(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  eyJfile.jwt \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 70<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		src     sign.TokenSource
		want    string
		wantErr error
	}{
		{name: "string", src: sign.StaticToken("eyJstatic"), want: "eyJstatic"},
		{name: "empty string", src: sign.StaticToken(" "), wantErr: sign.ErrNoToken},
		{name: "file", src: sign.TokenFile(file), want: "eyJfile.jwt"},
		{name: "empty file", src: sign.TokenFile(empty), wantErr: sign.ErrNoToken},
		{name: "missing file", src: sign.TokenFile(filepath.Join(dir, "absent")), wantErr: os.ErrNotExist},
		{name: "oversized file", src: sign.TokenFile(big), wantErr: provenance.ErrTooLarge},
		{name: "env", src: sign.TokenFromEnv(map[string]string{sign.EnvSigstoreIDToken: "eyJenv"}), want: "eyJenv"},
		{name: "env unset", src: sign.TokenFromEnv(map[string]string{"OTHER": "x"}), wantErr: sign.ErrNoToken},
		{name: "nil env", src: sign.TokenFromEnv(nil), wantErr: sign.ErrNoToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.src.Token(context.Background())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %q, %v; want %v", got, err, tt.wantErr)
				}
				var te *sign.TokenError
				if !errors.As(err, &te) {
					t.Fatalf("got %T, want *sign.TokenError", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// githubTokenEndpoint serves what GitHub Actions' ID-token endpoint serves: GET with the query
// of ACTIONS_ID_TOKEN_REQUEST_URL plus audience, authorised by "bearer <request token>",
// answering {"count":N,"value":"<jwt>"}.
func githubTokenEndpoint(t *testing.T, requestToken, idToken string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch {
		case r.Method != http.MethodGet || r.URL.Path != "/_apis/distributedtask/hubs/build/plans/p/jobs/j/idtoken":
			http.NotFound(w, r)
		case !strings.EqualFold(r.Header.Get("Authorization"), "bearer "+requestToken):
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		case r.URL.Query().Get("api-version") != "2.0" || r.URL.Query().Get("audience") != "sigstore":
			http.Error(w, `{"message":"bad query"}`, http.StatusBadRequest)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"count":1950,"value":"` + idToken + `"}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestGitHubActionsToken(t *testing.T) {
	srv, calls := githubTokenEndpoint(t, "request-token", "eyJgithub.jwt.sig")
	reqURL := srv.URL + "/_apis/distributedtask/hubs/build/plans/p/jobs/j/idtoken?api-version=2.0"
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr error
	}{
		{name: "token", env: map[string]string{sign.EnvGitHubTokenRequestURL: reqURL, sign.EnvGitHubTokenRequestToken: "request-token"}, want: "eyJgithub.jwt.sig"},
		{name: "no permission", env: map[string]string{}, wantErr: sign.ErrNoToken},
		{name: "bad credentials", env: map[string]string{sign.EnvGitHubTokenRequestURL: reqURL, sign.EnvGitHubTokenRequestToken: "wrong"}, wantErr: sign.ErrService},
		{name: "wrong path", env: map[string]string{sign.EnvGitHubTokenRequestURL: srv.URL + "/nope", sign.EnvGitHubTokenRequestToken: "request-token"}, wantErr: sign.ErrService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sign.GitHubActionsToken(tt.env, srv.Client()).Token(context.Background())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %q, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("fetches anew each call", func(t *testing.T) {
		src := sign.GitHubActionsToken(map[string]string{sign.EnvGitHubTokenRequestURL: reqURL, sign.EnvGitHubTokenRequestToken: "request-token"}, nil)
		before := calls.Load()
		for range 3 {
			if _, err := src.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := calls.Load() - before; n != 3 {
			t.Fatalf("%d requests for 3 tokens", n)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := sign.GitHubActionsToken(map[string]string{sign.EnvGitHubTokenRequestURL: reqURL, sign.EnvGitHubTokenRequestToken: "request-token"}, nil).Token(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}
