package app

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/edgeward/edgeward/internal/config"
	"github.com/edgeward/edgeward/internal/origintest"
	"github.com/edgeward/edgeward/internal/testkit"
	"github.com/edgeward/edgeward/internal/token/tokentest"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page's screenshot to docs/status.png")

const statusEdgeFile = `
admin: 127.0.0.1:0
origins:
  orders-api: {url: "http://%s/prod"}
  legacy: {url: "http://%s"}
behaviors:
  - path_pattern: "/orders/*"
    origin: orders-api
    viewer_request: authorize
    cache: {default_ttl: 60s}
  - path_pattern: "/legacy/*"
    origin: legacy
  - path_pattern: "*"
    origin: orders-api
    viewer_request: authorize
decision:
  token_issuers:
    demo: {issuer: %q, jwks_url: %q}
  api_services:
    - name: Orders API
      base_urls: [http://%s]
      token_issuer: demo
      audience: https://api.example.com
      operations:
        - name: Read orders
          methods: [GET, HEAD]
          paths: [{type: PARAMETER, pattern: "/orders/{id}"}]
          access_control: {scopes: {match: ANY, values: [orders:read]}}
logging: {access_log: {path: off}}
`

// TestStatusPage_InABrowser serves an edge with traffic behind it (an
// allowed miss and hit, two denies, an invalidation, a reload, an origin
// that is down) and checks, in headless Chromium, what an operator sees on
// the status page, then follows a deny's explain link and asks about it
// with a token.
func TestStatusPage_InABrowser(t *testing.T) {
	chromium := testkit.Tool(t, "chromium", "chromium")
	iss := tokentest.NewIssuer(t)
	read := iss.Mint(map[string]any{"sub": "alice", "aud": "https://api.example.com", "scope": "orders:read"})
	org := origintest.New(t)
	org.HandleDefault(origintest.Reply{Header: http.Header{"Cache-Control": {"public, max-age=60"}}, Body: []byte(`{"id":1}`)})
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()

	edgeLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	edgeAddr := edgeLn.Addr().String()
	path := filepath.Join(t.TempDir(), "edgeward.yaml")
	file := fmt.Sprintf(statusEdgeFile, org.Addr(), deadAddr, iss.URL(), iss.JWKSURL(), edgeAddr)
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := config.LoadEdge(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := NewEdge(ctx, path, f, Options{Version: "v0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ListenAdmin("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Serve(ctx, edgeLn) }()
	t.Cleanup(func() { cancel(); <-done })

	base, admin := "http://"+edgeAddr, "http://"+e.AdminAddr()
	reload(ctx, e, e.log, "SIGHUP") // first: a reload starts the counters again
	for _, c := range []struct {
		path, authorization string
		want                int
	}{
		{"/orders/1", "Bearer " + read, 200}, {"/orders/1", "Bearer " + read, 200},
		{"/orders/2", "", 401}, {"/orders/3", "Bearer not-a-token", 401}, {"/legacy/x", "", 502},
	} {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		if c.authorization != "" {
			req.Header.Set("Authorization", c.authorization)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Fatalf("GET %s = %d, want %d", c.path, res.StatusCode, c.want)
		}
	}
	res, err := http.Post(admin+"/invalidations", "application/json", strings.NewReader(`{"paths":["/orders/*"]}`))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("invalidation: %v %v", err, res)
	}
	res.Body.Close()

	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	bctx, tcancel := context.WithTimeout(bctx, 60*time.Second)
	defer tcancel()

	if err := chromedp.Do(bctx,
		chromedp.Navigate(admin+"/status"),
		chromedp.WaitVisible(chromedp.CSS("#denies")),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("browser: text of %s: %v", sel, err)
		}
		return v
	}
	header, behaviors, cache, decisions := text("header"), text("#behaviors"), text("#cache"), text("#decisions")
	denies, invalidations := text("#denies"), text("#invalidations")
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	seen := map[string]struct{ text, want string }{
		"version":          {header, "version v0.0.0-test"},
		"config version":   {header, "config " + fileVersion(path)},
		"reload":           {header, "last reload: ok"},
		"behavior":         {behaviors, "/orders/*"},
		"origin URL":       {behaviors, "http://" + org.Addr() + "/prod"},
		"origin up":        {behaviors, "reachable"},
		"origin down":      {behaviors, "unreachable: dial tcp " + deadAddr},
		"hit ratio":        {cache, "50.0%"},
		"entries":          {cache, "entries"},
		"allows":           {decisions, "allow\n2"},
		"denies":           {decisions, "deny\n2"},
		"deny row":         {denies, "GET http://" + edgeAddr + "/orders/2"},
		"deny reason":      {denies, "invalid_token"},
		"invalidation row": {invalidations, "Completed"},
	}
	for name, s := range seen {
		if !strings.Contains(s.text, s.want) {
			t.Errorf("%s: the page shows\n%s\nwant it to contain %q", name, s.text, s.want)
		}
	}
	if len(shot) == 0 {
		t.Error("no screenshot")
	}
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "status.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A deny's explain link opens the form with the request filled in; with
	// a token pasted, the decision service explains it would allow.
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`#denies a[href*="%2Forders%2F2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name="authorization"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="authorization"]`), "Bearer "+read),
		chromedp.Submit(chromedp.CSS(`form`)),
		chromedp.WaitVisible(chromedp.CSS("#decision")),
	); err != nil {
		t.Fatalf("browser, explain: %v", err)
	}
	decision, result := text("#decision"), text("#result")
	if !strings.HasPrefix(decision, "allow 200") || !strings.Contains(decision, "Read orders") {
		t.Errorf("explain shows %q, want allow 200 on Read orders", decision)
	}
	if strings.Contains(result, read) {
		t.Errorf("the explanation echoes the token")
	}
}
