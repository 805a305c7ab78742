package sign

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Names of the environment variables the token sources read from the map a caller passes.
const (
	// EnvSigstoreIDToken holds an OIDC identity token for Sigstore, as cosign reads it.
	EnvSigstoreIDToken = "SIGSTORE_ID_TOKEN"
	// EnvGitHubTokenRequestURL is the URL of GitHub Actions' ID-token endpoint.
	EnvGitHubTokenRequestURL = "ACTIONS_ID_TOKEN_REQUEST_URL"
	// EnvGitHubTokenRequestToken is the bearer token that authorises calls to that endpoint.
	EnvGitHubTokenRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	// SigstoreAudience is the audience Fulcio expects in identity tokens.
	SigstoreAudience = "sigstore"
)

// maxTokenBytes caps token files and token endpoint responses.
const maxTokenBytes = 64 << 10

// TokenSource supplies OIDC identity tokens to a keyless signer. Token is called once per
// signature, so a source may return a fresh token each time. Implementations must be safe for
// concurrent use.
type TokenSource interface {
	// Token returns a raw JWT.
	Token(ctx context.Context) (string, error)
}

var (
	_ TokenSource = StaticToken("")
	_ TokenSource = TokenFunc(nil)
)

// TokenFunc adapts a function to a TokenSource.
type TokenFunc func(ctx context.Context) (string, error)

// Token calls f.
func (f TokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// StaticToken is a TokenSource that always returns the same token.
type StaticToken string

// Token returns t, or an error wrapping ErrNoToken when t is empty.
func (t StaticToken) Token(context.Context) (string, error) {
	tok := strings.TrimSpace(string(t))
	if tok == "" {
		return "", &TokenError{Source: "string", Err: ErrNoToken}
	}
	return tok, nil
}

// TokenFile returns a TokenSource that reads the token from the file at path on every call,
// so a token file that is rotated (a Kubernetes projected service account token, say) is picked
// up. Surrounding white space is removed; files over 64 KiB are refused.
func TokenFile(path string) TokenSource {
	return TokenFunc(func(context.Context) (string, error) {
		f, err := os.Open(path)
		if err != nil {
			return "", &TokenError{Source: "file", Err: err}
		}
		defer f.Close()
		data, err := limitedRead(f, "token file", maxTokenBytes)
		if err != nil {
			return "", &TokenError{Source: "file", Err: err}
		}
		tok := strings.TrimSpace(string(data))
		if tok == "" {
			return "", &TokenError{Source: "file", Err: fmt.Errorf("%w: %s is empty", ErrNoToken, path)}
		}
		return tok, nil
	})
}

// TokenFromEnv returns a TokenSource that reads SIGSTORE_ID_TOKEN from env, a map the caller
// fills (for instance from os.Environ); it never reads the process environment itself. The map
// is read when Token is called and must not be modified concurrently.
func TokenFromEnv(env map[string]string) TokenSource {
	return TokenFunc(func(context.Context) (string, error) {
		tok := strings.TrimSpace(env[EnvSigstoreIDToken])
		if tok == "" {
			return "", &TokenError{Source: "env", Err: fmt.Errorf("%w: %s is not set", ErrNoToken, EnvSigstoreIDToken)}
		}
		return tok, nil
	})
}

// GitHubActionsToken returns a TokenSource that asks GitHub Actions' ID-token endpoint for a
// token with audience "sigstore", as a workflow with "permissions: id-token: write" may. The
// endpoint and its bearer token come from ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN in env, a map the caller fills; the process environment is
// never read. client may be nil for http.DefaultClient. A token is requested on every call, as
// they live only minutes.
func GitHubActionsToken(env map[string]string, client *http.Client) TokenSource {
	if client == nil {
		client = http.DefaultClient
	}
	return TokenFunc(func(ctx context.Context) (string, error) {
		reqURL, bearer := env[EnvGitHubTokenRequestURL], env[EnvGitHubTokenRequestToken]
		if reqURL == "" || bearer == "" {
			return "", &TokenError{Source: "github-actions", Err: fmt.Errorf("%w: %s and %s must both be set (does the job have id-token: write permission?)",
				ErrNoToken, EnvGitHubTokenRequestURL, EnvGitHubTokenRequestToken)}
		}
		u, err := url.Parse(reqURL)
		if err != nil {
			return "", &TokenError{Source: "github-actions", Err: fmt.Errorf("%w: %s: %v", ErrNoToken, EnvGitHubTokenRequestURL, err)}
		}
		q := u.Query()
		q.Set("audience", SigstoreAudience)
		u.RawQuery = q.Encode()
		endpoint := u.Redacted()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", &TokenError{Source: "github-actions", Err: err}
		}
		req.Header.Set("Authorization", "bearer "+bearer)
		req.Header.Set("Accept", "application/json; api-version=2.0")
		resp, err := client.Do(req)
		if err != nil {
			return "", &ServiceError{Service: "github-actions", URL: endpoint, Err: err}
		}
		defer resp.Body.Close()
		body, err := limitedRead(resp.Body, "token response", maxTokenBytes)
		if err != nil {
			return "", &ServiceError{Service: "github-actions", URL: endpoint, Err: err}
		}
		if resp.StatusCode != http.StatusOK {
			return "", &ServiceError{Service: "github-actions", URL: endpoint,
				Err: fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))}
		}
		var out struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return "", &ServiceError{Service: "github-actions", URL: endpoint, Err: fmt.Errorf("decode response: %w", err)}
		}
		if out.Value == "" {
			return "", &TokenError{Source: "github-actions", Err: fmt.Errorf("%w: response has no value", ErrNoToken)}
		}
		return out.Value, nil
	})
}
