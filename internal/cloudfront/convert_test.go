package cloudfront_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/cloudfront"
	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origin"
)

func env(k string) (string, bool) {
	if k == cloudfront.CredentialEnv {
		return "test-credential", true
	}
	return "", false
}

// importFixture converts testdata/name with the given policy files.
func importFixture(t *testing.T, name string, policies ...string) (*cloudfront.Result, *config.Edge) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	d, err := cloudfront.ParseDistribution(data)
	if err != nil {
		t.Fatalf("ParseDistribution(%s) = %v", name, err)
	}
	var p cloudfront.Policies
	for _, pf := range policies {
		b, err := os.ReadFile(filepath.Join("testdata", pf))
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AddPolicy(b); err != nil {
			t.Fatalf("AddPolicy(%s) = %v", pf, err)
		}
	}
	res, err := cloudfront.Convert(d, p, "127.0.0.1:8080")
	if err != nil {
		t.Fatalf("Convert(%s) = %v", name, err)
	}
	f, err := config.ParseEdge(name+".yaml", res.YAML, env)
	if err != nil {
		t.Fatalf("the import of %s does not validate: %v\n%s", name, err, res.YAML)
	}
	return res, f
}

func TestImport_Fixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture   string
		policies  []string
		behaviors []string
		notes     []string // keys that must be reported
		check     func(t *testing.T, f *config.Edge)
	}{
		{
			fixture:   "get-distribution-config.json",
			behaviors: []string{"*"},
			notes:     []string{"DefaultRootObject"},
			check: func(t *testing.T, f *config.Edge) {
				b := f.Behaviors[0]
				if b.CachePolicy != "CachingOptimized" || b.Cache == nil || b.Cache.MinTTL != time.Second {
					t.Errorf("default behavior cache_policy %q cache %+v, want CachingOptimized", b.CachePolicy, b.Cache)
				}
				if f.Origins["awsexamplebucket-s3-amazonaws-com-cli-example"].URL != "https://awsexamplebucket.s3.amazonaws.com" {
					t.Errorf("origins = %+v", f.Origins)
				}
			},
		},
		{
			fixture:   "api-lambda-edge.json",
			policies:  []string{"get-cache-policy.json", "get-origin-request-policy.json", "get-response-headers-policy.json"},
			behaviors: []string{"/orders/*", "/orders/*/receipt.pdf", "/static/*", "/health", "*"},
			notes: []string{
				"Aliases", "ViewerCertificate", "WebACLId", "Restrictions.GeoRestriction", "Logging", "HttpVersion", "PriceClass",
				"Origins.Items[1].OriginShield", "CacheBehaviors.Items[0].LambdaFunctionAssociations.Items[1]",
				"CacheBehaviors.Items[1].TrustedKeyGroups", "CacheBehaviors.Items[1].FieldLevelEncryptionId",
				"CacheBehaviors.Items[1].FunctionAssociations.Items[0]", "CacheBehaviors.Items[3].CachePolicyId",
				"DefaultCacheBehavior.ViewerProtocolPolicy", "LambdaFunctionAssociations",
			},
			check: func(t *testing.T, f *config.Edge) {
				api := f.Origins["orders-api-execute-api"]
				if api.URL != "https://abc123.execute-api.us-east-1.amazonaws.com/prod" || api.ProtocolPolicy != origin.HTTPSOnly ||
					api.CustomHeaders["X-Origin-Verify"] != "from-the-edge" || api.ResponseTimeout != 30*time.Second {
					t.Errorf("orders origin = %+v", api)
				}
				if legacy := f.Origins["legacy"]; legacy.URL != "http://legacy.example.net:8080" {
					t.Errorf("legacy origin URL = %q", legacy.URL)
				}
				orders := f.Behaviors[0]
				if orders.ViewerRequest != "authorize" || len(orders.AllowedMethods) != 7 {
					t.Errorf("/orders/* viewer_request %q methods %v", orders.ViewerRequest, orders.AllowedMethods)
				}
				c := orders.Cache
				if c == nil || *c.DefaultTTL != time.Minute || *c.MaxTTL != time.Hour || len(c.CachedMethods) != 3 ||
					strings.Join(c.Key.Headers, ",") != "X-Tenant" || strings.Join(c.Key.QueryStrings.Include, ",") != "page,size" ||
					strings.Join(c.Forward.Headers.Include, ",") != "Accept-Language,Content-Type" || c.Forward.QueryStrings.Mode != "all" {
					t.Errorf("/orders/* cache = %+v", c)
				}
				rh := orders.ResponseHeaders
				if rh == nil || rh.CORS.AllowOrigins[0] != "https://app.example.com" || rh.CORS.MaxAge != 10*time.Minute ||
					rh.Security.StrictTransportSecurity.Value != "max-age=63072000; includeSubDomains" || rh.Remove[0] != "Server" {
					t.Errorf("/orders/* response_headers = %+v", rh)
				}
				if f.Behaviors[1].ResponseHeadersPolicy != "SecurityHeadersPolicy" || f.Behaviors[1].ViewerRequest != "" {
					t.Errorf("receipt behavior = %+v", f.Behaviors[1])
				}
				st := f.Behaviors[2]
				if st.CachePolicy != "UseOriginCacheControlHeaders" || st.OriginRequestPolicy != "CORS-CustomOrigin" || st.ResponseHeadersPolicy != "SimpleCORS" {
					t.Errorf("/static/* policies = %q %q %q", st.CachePolicy, st.OriginRequestPolicy, st.ResponseHeadersPolicy)
				}
				if f.Behaviors[3].Cache != nil {
					t.Errorf("/health with an unknown custom cache policy got a cache: %+v", f.Behaviors[3].Cache)
				}
				def := f.Behaviors[4]
				if def.CachePolicy != "CachingDisabled" || def.OriginRequestPolicy != "AllViewerExceptHostHeader" ||
					def.ResponseHeadersPolicy != "CORS-With-Preflight" || def.ViewerRequest != "authorize" || *def.Cache.MaxTTL != 0 {
					t.Errorf("default behavior = %+v", def)
				}
				if fn := f.Functions["authorize"]; fn.SecretHeaderValue != "test-credential" || len(fn.ServiceURL) != 1 || fn.ServiceURL[0] != cloudfront.DecisionURL {
					t.Errorf("authorize function = %+v", fn)
				}
			},
		},
		{
			fixture:   "legacy-forwarded-values.json",
			behaviors: []string{"/api/*", "*"},
			notes:     []string{"CacheBehaviors.Items[0].ForwardedValues.Headers", "CacheBehaviors.Items[0].TrustedKeyGroups", "CustomErrorResponses.Items[1]", "DefaultCacheBehavior.ForwardedValues.Headers"},
			check: func(t *testing.T, f *config.Edge) {
				o := f.Origins["Custom-www-example-org"]
				if o.URL != "https://www.example.org/v1" || o.ProtocolPolicy != origin.MatchViewer || o.HTTPSPort != 8443 {
					t.Errorf("origin = %+v", o)
				}
				api := f.Behaviors[0].Cache
				if *api.MaxTTL != 0 || api.Forward.Headers.Mode != "all" {
					t.Errorf("/api/* (all headers) cache = %+v, want no caching, everything forwarded", api)
				}
				def := f.Behaviors[1].Cache
				if *def.DefaultTTL != 5*time.Minute || *def.MaxTTL != time.Hour || def.Key.Cookies.Include[0] != "session-lang" ||
					def.Key.QueryStrings.Include[0] != "id" || def.Key.Headers[0] != "Accept-Language" || len(def.CachedMethods) != 3 ||
					def.ErrorTTLs[404] != 30*time.Second {
					t.Errorf("default cache = %+v", def)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			res, f := importFixture(t, tt.fixture, tt.policies...)
			var got []string
			for _, b := range f.Behaviors {
				got = append(got, b.PathPattern)
			}
			if strings.Join(got, " ") != strings.Join(tt.behaviors, " ") || strings.Join(res.Behaviors, " ") != strings.Join(tt.behaviors, " ") {
				t.Errorf("behaviors = %v (result %v), want %v", got, res.Behaviors, tt.behaviors)
			}
			for _, key := range tt.notes {
				found := false
				for _, n := range res.Notes {
					found = found || n.Key == key
				}
				if !found {
					t.Errorf("no note for %s; notes:\n%v", key, res.Notes)
				}
			}
			for _, n := range res.Notes {
				if n.Why == "" {
					t.Errorf("note %s says no why", n.Key)
				}
			}
			tt.check(t, f)
		})
	}
}

// TestImport_ServesBehaviorsInOrder loads the imported file into a real
// edge, each behavior pointed at its own loopback origin, and checks that
// paths reach the behavior CloudFront would pick: same behaviors, same
// order, same first match.
func TestImport_ServesBehaviorsInOrder(t *testing.T) {
	t.Parallel()
	_, f := importFixture(t, "api-lambda-edge.json", "get-cache-policy.json", "get-origin-request-policy.json", "get-response-headers-policy.json")
	f.Origins = map[string]origin.Config{}
	for i := range f.Behaviors {
		id := fmt.Sprintf("b%d", i)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, id)
		}))
		t.Cleanup(srv.Close)
		o := origin.Config{URL: srv.URL}
		o.Defaults()
		f.Origins[id] = o
		f.Behaviors[i].Origin = id
		f.Behaviors[i].ViewerRequest = "" // no decision service here: the order is under test
	}
	f.Functions = nil
	f.Admin = "off"
	e, err := app.NewEdge(context.Background(), "imported.yaml", f, app.Options{})
	if err != nil {
		t.Fatalf("NewEdge = %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	// The policies came along: SimpleCORS on /static/*, the custom CORS
	// policy (one allowed origin) and security headers on /orders/*.
	for _, tc := range []struct{ path, origin, header, want string }{
		{"/static/app.js", "https://any.example", "Access-Control-Allow-Origin", "*"},
		{"/orders/42", "https://app.example.com", "Access-Control-Allow-Origin", "https://app.example.com"},
		{"/orders/42", "https://evil.example", "Access-Control-Allow-Origin", ""},
		{"/orders/42", "", "X-Frame-Options", "DENY"},
		{"/healthz", "https://any.example", "Access-Control-Allow-Origin", "*"}, // CORS-With-Preflight on "*"
	} {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+tc.path, nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get(tc.header); got != tc.want {
			t.Errorf("GET %s (Origin %q): %s = %q, want %q", tc.path, tc.origin, tc.header, got, tc.want)
		}
	}
	for _, tc := range []struct{ path, want string }{
		{"/orders/42", "b0"},
		{"/orders/42/receipt.pdf", "b0"}, // /orders/* comes first, as in CloudFront
		{"/static/app.js", "b2"},
		{"/health", "b3"},
		{"/healthz", "b4"},
		{"/", "b4"},
	} {
		resp, err := http.Get("http://" + ln.Addr().String() + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tc.want {
			t.Errorf("GET %s answered by %q (%d), want %s", tc.path, body, resp.StatusCode, tc.want)
		}
	}
}

func TestParseDistribution_Errors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`not json`, `{}`, `{"DistributionConfig": {"Origins": {"Quantity": 0}}}`,
		`{"DistributionConfig": {"DefaultCacheBehavior": {"TargetOriginId": "a"}, "Origins": {"Quantity": 0}}}`} {
		if _, err := cloudfront.ParseDistribution([]byte(in)); err == nil {
			t.Errorf("ParseDistribution(%s) = nil error", in)
		}
	}
	var p cloudfront.Policies
	if err := p.AddPolicy([]byte(`{"ETag": "x"}`)); err == nil {
		t.Error("AddPolicy of a file with no policy = nil error")
	}
}
