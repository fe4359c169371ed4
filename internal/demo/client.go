package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultIssuerURL is where `edgeward token` finds the issuer of a demo
// started with the default ports.
const DefaultIssuerURL = "http://127.0.0.1:8082"

// RequestToken asks the demo issuer at issuerURL for an access token with
// scope (space-separated), signed with alg ("" for RS256), as a client
// using the client-credentials grant would. A nil client uses one with a
// 10-second timeout.
func RequestToken(ctx context.Context, c *http.Client, issuerURL, scope, alg string) (*TokenResponse, error) {
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	if alg != "" {
		form.Set("alg", alg)
	}
	endpoint := strings.TrimSuffix(issuerURL, "/") + TokenPath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", issuerURL, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("no demo token issuer answers at %s (is `edgeward demo` running?): %w", issuerURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("issuer %s: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("issuer %s: %s: %s", endpoint, e.Error, e.Description)
		}
		return nil, fmt.Errorf("issuer %s: %s", endpoint, resp.Status)
	}
	var tr TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, fmt.Errorf("issuer %s: the answer is not a token response: %w", endpoint, err)
	}
	if tr.AccessToken == "" {
		return nil, errors.New("issuer " + endpoint + ": the answer has no access_token")
	}
	return &tr, nil
}
