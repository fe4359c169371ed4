package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

const (
	// fetchTimeout bounds one background fetch of a JWKS or discovery
	// document. Fetches caused by a request are bounded by the request's
	// context as well.
	fetchTimeout = 10 * time.Second
	// rateLimitWaitMax is how long a request with an unknown kid waits for
	// the refresh rate limiter. jwkset also bounds the refresh itself with
	// it, so it is the longest an unknown kid can hold a request (less when
	// the request's deadline is nearer).
	rateLimitWaitMax = 2 * time.Second
	// maxDocumentBytes bounds a JWKS or discovery response.
	maxDocumentBytes = 1 << 20
	// maxStartBackoff is the longest wait between two attempts to discover
	// the JWKS URL while discovery fails.
	maxStartBackoff = time.Minute
)

// keys is the signing keys of one issuer: where they come from (a JWKS URL,
// configured or discovered), the keyfunc over them, and the rate limiter
// shared by every refresh a request causes.
type keys struct {
	base    context.Context // lifetime of the background work
	issuer  string
	jwksURL string // configured; empty means discovery
	refresh time.Duration
	client  *http.Client
	limiter *rate.Limiter
	log     *slog.Logger
	m       *issuerMetrics

	kf atomic.Pointer[keyfunc.Keyfunc] // nil until the JWKS URL is known

	mu      sync.Mutex
	attempt chan struct{} // non-nil while a start attempt runs; closed when it ends
}

func newKeys(base context.Context, cfg *IssuerConfig, client *http.Client, log *slog.Logger, m *issuerMetrics) *keys {
	// When the verifier's context ends (a reload replaced it, or the
	// process stops), its kept-alive connections to the issuer go too.
	context.AfterFunc(base, client.CloseIdleConnections)
	return &keys{
		base:    base,
		issuer:  cfg.Issuer,
		jwksURL: cfg.JWKSURL,
		refresh: cfg.RefreshInterval,
		client:  client,
		limiter: rate.NewLimiter(rate.Every(cfg.RefreshRateLimit), 1),
		log:     log,
		m:       m,
	}
}

// run starts the keys and, while OpenID discovery fails, retries it with
// backoff until it succeeds or base ends. It returns once the keys are
// started; refreshes go on in jwkset's own goroutine.
func (k *keys) run() {
	backoff := time.Second
	for {
		done := k.start()
		select {
		case <-done:
		case <-k.base.Done():
			return
		}
		if k.kf.Load() != nil {
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-k.base.Done():
			t.Stop()
			return
		}
		backoff = min(2*backoff, maxStartBackoff)
	}
}

// start begins a start attempt unless one is running or the keys are
// started, and returns a channel closed when the running attempt ends.
func (k *keys) start() <-chan struct{} {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.startLocked()
}

func (k *keys) startLocked() chan struct{} {
	if k.attempt != nil {
		return k.attempt
	}
	if k.kf.Load() != nil {
		// Started: refreshes are jwkset's from now on.
		done := make(chan struct{})
		close(done)
		return done
	}
	done := make(chan struct{})
	k.attempt = done
	go func() {
		err := k.load()
		if err != nil {
			k.m.refreshFailed()
			k.log.LogAttrs(k.base, slog.LevelWarn, "token issuer keys unavailable",
				slog.String("issuer", k.issuer), slog.String("error", err.Error()))
		}
		k.mu.Lock()
		k.attempt = nil
		k.mu.Unlock()
		close(done)
	}()
	return done
}

// keyfunc returns the keyfunc of the issuer. When the keys are not started
// (discovery has not succeeded yet) it waits for a running attempt, or
// starts one if the refresh rate limit allows, never past ctx.
func (k *keys) keyfunc(ctx context.Context) (keyfunc.Keyfunc, error) {
	if p := k.kf.Load(); p != nil {
		return *p, nil
	}
	k.mu.Lock()
	done := k.attempt
	k.mu.Unlock()
	if done == nil {
		// Same bound as jwkset's unknown-kid refresh: wait for the
		// limiter only if it frees up soon.
		wctx, cancel := context.WithTimeout(ctx, rateLimitWaitMax)
		err := k.limiter.Wait(wctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errKeysUnavailable, err)
		}
		k.mu.Lock()
		done = k.startLocked()
		k.mu.Unlock()
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", errKeysUnavailable, ctx.Err())
	}
	if p := k.kf.Load(); p != nil {
		return *p, nil
	}
	return nil, errKeysUnavailable
}

// load finds the JWKS URL (discovery when none is configured) and builds
// the keyfunc over it. The first fetch of the JWKS may fail: the keyfunc is
// published anyway, and an unknown kid or the background refresh fetches it
// again.
func (k *keys) load() error {
	u := k.jwksURL
	if u == "" {
		ctx, cancel := context.WithTimeout(k.base, fetchTimeout)
		var err error
		u, err = k.discover(ctx)
		cancel()
		if err != nil {
			return err
		}
	}
	store, err := jwkset.NewStorageFromHTTP(u, jwkset.HTTPClientStorageOptions{
		Client:                    k.client,
		Ctx:                       k.base,
		HTTPTimeout:               fetchTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			k.m.refreshFailed()
			k.log.LogAttrs(ctx, slog.LevelWarn, "JWKS refresh failed",
				slog.String("issuer", k.issuer), slog.String("url", u), slog.String("error", err.Error()))
		},
		RefreshInterval: k.refresh,
	})
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", u, err)
	}
	client, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{u: store},
		RateLimitWaitMax:  rateLimitWaitMax,
		RefreshUnknownKID: k.limiter,
	})
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", u, err)
	}
	kf, err := keyfunc.New(keyfunc.Options{
		Ctx:          k.base,
		Storage:      client,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""}, // never an encryption key
	})
	if err != nil {
		return fmt.Errorf("JWKS %s: %w", u, err)
	}
	k.kf.Store(&kf)
	return nil
}

// discover reads the issuer's OpenID configuration and returns its
// jwks_uri. The document must name the same issuer (OpenID Connect
// Discovery 1.0, section 4.3), and an https issuer must keep its keys on
// https.
func (k *keys) discover(ctx context.Context) (string, error) {
	u := strings.TrimSuffix(k.issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("discovery %s: status %d", u, resp.StatusCode)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return "", fmt.Errorf("discovery %s: %w", u, err)
	}
	if doc.Issuer != k.issuer {
		return "", fmt.Errorf("discovery %s: the document names issuer %q, want %q", u, doc.Issuer, k.issuer)
	}
	j, err := httpURL(doc.JWKSURI)
	if err != nil {
		return "", fmt.Errorf("discovery %s: jwks_uri: %w", u, err)
	}
	if strings.HasPrefix(k.issuer, "https:") && j.Scheme != "https" {
		return "", fmt.Errorf("discovery %s: jwks_uri %s is not https", u, j.Redacted())
	}
	return doc.JWKSURI, nil
}

// newHTTPClient returns the client for JWKS and discovery fetches: TLS
// verified against ca_file when set, no redirect to plain http, responses
// bounded in size, every fetch counted.
func newHTTPClient(cfg *IssuerConfig, m *issuerMetrics) (*http.Client, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CACertFile != "" {
		pool, err := loadCAs(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		t.TLSClientConfig.RootCAs = pool
	}
	t.MaxIdleConnsPerHost = 2
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport: &countingTransport{next: t, m: m},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return errors.New("redirect from https to http refused")
			}
			return nil
		},
	}, nil
}

// countingTransport counts fetches and bounds response bodies.
type countingTransport struct {
	next http.RoundTripper
	m    *issuerMetrics
}

// CloseIdleConnections closes the wrapped transport's idle connections.
func (t *countingTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.m.refreshed()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{r: io.LimitReader(resp.Body, maxDocumentBytes+1), c: resp.Body}
	return resp, nil
}

// limitedBody fails a read past maxDocumentBytes instead of truncating, so
// a huge document is an error, never a partial key set.
type limitedBody struct {
	r io.Reader
	c io.Closer
	n int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > maxDocumentBytes {
		return n, errors.New("document larger than 1MiB")
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.c.Close() }

// candidates are the keys that may have signed a token without a kid: the
// JWKS's signing keys of alg's type whose own alg (if any) is alg. Keys of
// other types would fail anyway; leaving them out bounds the work a token
// without a kid can cause. Without a kid there is no refresh: an issuer
// that rotates keys names them.
func candidates(ctx context.Context, kf keyfunc.Keyfunc, alg string) (any, error) {
	all, err := kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return nil, invalid(descUnknownKey, err)
	}
	var set jwt.VerificationKeySet
	for _, j := range all {
		m := j.Marshal()
		if (m.ALG != "" && m.ALG.String() != alg) || (m.USE != "" && m.USE != jwkset.UseSig) {
			continue
		}
		key := j.Key()
		if p, ok := key.(interface{ Public() crypto.PublicKey }); ok {
			key = p.Public()
		}
		if fits(alg, key) {
			set.Keys = append(set.Keys, key)
		}
	}
	if len(set.Keys) == 0 {
		return nil, invalid(descUnknownKey, errors.New("no key of the JWKS fits a token without kid"))
	}
	return set, nil
}

// fits reports whether key is of the type alg verifies with.
func fits(alg string, key any) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
