package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/edgeward/edgeward/internal/app"
	"github.com/edgeward/edgeward/internal/config"
)

// Options say where the demo listens. The zero value puts every part on a
// free port of 127.0.0.1 (what tests want); DefaultOptions has the fixed
// ports that the printed curl commands and `edgeward token` expect.
type Options struct {
	// Listen is the edge's viewer listener (default 127.0.0.1:0).
	Listen string
	// Admin is the admin listener (default 127.0.0.1:0), or "off".
	Admin string
	// Version is the program's version, shown on the status page.
	Version string
	// OriginPort and IssuerPort are the loopback ports of the Orders API
	// and of the token issuer; 0 picks a free port.
	OriginPort int
	IssuerPort int
	// NoCheck skips the self-check in Run.
	NoCheck bool
	// AccessLog writes the edge's CloudFront-format access log to stdout.
	AccessLog bool
	// TraceEndpoint sends the edge's spans to this OTLP/HTTP collector.
	TraceEndpoint string
	// Logger is the process log of the edge (nil discards it).
	Logger *slog.Logger
}

// DefaultOptions are the command line's defaults: the edge on 8080, admin
// on 9901, the origin on 8090 and the issuer on 8082.
func DefaultOptions() Options {
	return Options{Listen: "127.0.0.1:8080", Admin: "127.0.0.1:9901", OriginPort: 8090, IssuerPort: 8082}
}

func (o *Options) defaults() {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.Admin == "" {
		o.Admin = "127.0.0.1:0"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Demo is a running demo: the Orders API, the token issuer, and the edge
// with its embedded decision service.
type Demo struct {
	orders        *Orders
	issuer        *Issuer
	config        []byte
	traceEndpoint string

	edgeURL, adminURL, originURL string
	servers                      []*http.Server
	cancel                       context.CancelFunc
	done                         chan struct{} // closed when the edge has stopped
	serveErr                     error

	closeOnce sync.Once
	closeErr  error
}

// Start binds every listener, starts the origin and the issuer, builds the
// edge from the generated configuration (through config.ParseEdge and
// app.NewEdge, as `edgeward serve` does) and starts it. The demo runs
// until ctx is done or Close is called; Close waits for it to stop.
func Start(ctx context.Context, opts Options) (_ *Demo, err error) {
	opts.defaults()
	ctx, cancel := context.WithCancel(ctx)
	d := &Demo{cancel: cancel, done: make(chan struct{})}
	var unused []net.Listener // bound, not served yet: closed if Start fails
	defer func() {
		if err != nil {
			for _, ln := range unused {
				ln.Close()
			}
			close(d.done)
			d.Close()
		}
	}()

	// Bind first: a port in use is reported before anything is built.
	originLn, err := listen(loopback(opts.OriginPort), "--origin-port")
	if err != nil {
		return nil, err
	}
	unused = append(unused, originLn)
	issuerLn, err := listen(loopback(opts.IssuerPort), "--issuer-port")
	if err != nil {
		return nil, err
	}
	unused = append(unused, issuerLn)
	edgeLn, err := listen(opts.Listen, "--listen")
	if err != nil {
		return nil, err
	}
	unused = append(unused, edgeLn)
	// The admin listener is bound by the edge itself (ListenAdmin), once
	// built; binding it here first reports a taken port before the edge is
	// built and puts the real address in the configuration. It is handed
	// over just before the edge binds it again.
	adminAddr := "off"
	var adminLn net.Listener
	if opts.Admin != "off" {
		if adminLn, err = listen(opts.Admin, "--admin"); err != nil {
			return nil, err
		}
		unused = append(unused, adminLn)
		adminAddr = adminLn.Addr().String()
	}

	issuerURL := "http://" + issuerLn.Addr().String()
	if d.issuer, err = NewIssuer(issuerURL); err != nil {
		return nil, err
	}
	d.orders = NewOrders(Stage)
	d.originURL = "http://" + originLn.Addr().String() + Stage
	d.edgeURL = "http://" + dialable(edgeLn.Addr().String())
	d.serve(originLn, d.orders)
	d.serve(issuerLn, d.issuer)
	unused = unused[2:]

	d.traceEndpoint = opts.TraceEndpoint
	d.config = Config(Layout{
		Listen:        edgeLn.Addr().String(),
		Admin:         adminAddr,
		OriginURL:     d.originURL,
		IssuerURL:     issuerURL,
		AccessLog:     opts.AccessLog,
		TraceEndpoint: opts.TraceEndpoint,
	})
	f, err := config.ParseEdge("edgeward demo", d.config, noEnv)
	if err != nil {
		return nil, fmt.Errorf("the demo's configuration does not load: %w", err)
	}
	e, err := app.NewEdge(ctx, "", f, app.Options{Logger: opts.Logger, Lookup: noEnv, Version: opts.Version})
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	if adminLn != nil {
		adminLn.Close()
		if err := e.ListenAdmin(adminAddr); err != nil {
			e.Close()
			return nil, fmt.Errorf("admin: %w (choose another address with --admin, or --admin off)", err)
		}
		d.adminURL = "http://" + dialable(e.AdminAddr())
	}
	unused = nil
	go func() {
		defer close(d.done)
		if err := e.Serve(ctx, edgeLn); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
			d.serveErr = err
		}
	}()
	return d, nil
}

// dialable is addr with an unspecified host (0.0.0.0, ::), which a
// listener binds but a client cannot name, replaced by 127.0.0.1: the
// self-check and the printed commands use it, and the demo's API service
// lists 127.0.0.1 among its base URLs.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err == nil && ip != nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func listen(addr, flag string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w (is another demo running? choose another port with %s; 0 picks a free one)", err, flag)
	}
	return ln, nil
}

// serve runs h on ln until Close.
func (d *Demo) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	d.servers = append(d.servers, srv)
	go srv.Serve(ln)
}

// EdgeURL is the edge's viewer URL: where API clients send requests.
func (d *Demo) EdgeURL() string { return d.edgeURL }

// AdminURL is the admin listener's URL, "" when it is off.
func (d *Demo) AdminURL() string { return d.adminURL }

// OriginURL is the Orders API's URL, stage path included.
func (d *Demo) OriginURL() string { return d.originURL }

// IssuerURL is the token issuer's identifier and base URL.
func (d *Demo) IssuerURL() string { return d.issuer.URL() }

// Issuer is the demo's token issuer, for minting tokens in-process.
func (d *Demo) Issuer() *Issuer { return d.issuer }

// Config is the configuration the edge was built from.
func (d *Demo) Config() []byte { return d.config }

// Done is closed when the edge has stopped, by Close or on its own.
func (d *Demo) Done() <-chan struct{} { return d.done }

// Close stops the edge (draining in-flight requests), then the origin and
// the issuer, and returns the edge's serving error if it failed. It is
// safe to call more than once.
func (d *Demo) Close() error {
	d.closeOnce.Do(func() {
		d.cancel()
		<-d.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, srv := range d.servers {
			if srv != nil {
				srv.Shutdown(ctx)
			}
		}
		d.closeErr = d.serveErr
	})
	return d.closeErr
}
