package fleet

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/edgeward/edgeward/internal/size"
)

// Defaults of a fleet: section.
const (
	DefaultDisconnectBound = 30 * time.Second
	DefaultHeartbeat       = time.Second
	DefaultStreamMaxLen    = 10000
	DefaultKeyPrefix       = "edgeward"
	DefaultQueueSize       = 1000
	DefaultTimeout         = 250 * time.Millisecond
	DefaultDialTimeout     = time.Second
	DefaultTierMaxObject   = size.Bytes(1 << 20)
	DefaultLockTTL         = 10 * time.Second
	DefaultCollapseWait    = 3 * time.Second
)

// Config is the fleet: section of an edge file. The section is off when
// absent: a single node needs no Redis.
type Config struct {
	// Redis is the server every node of the fleet shares.
	Redis RedisConfig `yaml:"redis"`
	// Node names this node in invalidation statuses; unique in the fleet.
	// Default: the host name (a pod's name in Kubernetes).
	Node string `yaml:"node"`
	// DisconnectBound is how long a node serves from its local cache
	// while it cannot reach Redis (and so may miss invalidations). Past
	// it the node drops its whole local cache, and again every bound
	// until it is back. Default 30s.
	DisconnectBound time.Duration `yaml:"disconnect_bound"`
	// Heartbeat is how often a node says it is alive; it counts as live
	// (its acknowledgement is awaited) for three heartbeats. Default 1s.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// KeyPrefix starts every Redis key of the fleet; two fleets may share
	// one Redis with two prefixes. Default "edgeward".
	KeyPrefix string `yaml:"key_prefix"`
	// Stream is the Redis Stream of invalidations. Default
	// "<key_prefix>:invalidations".
	Stream string `yaml:"stream"`
	// StreamMaxLen trims the stream to about this many entries. A node
	// that was away for longer than the stream remembers drops its whole
	// local cache. Default 10000.
	StreamMaxLen int64 `yaml:"stream_max_len"`
	// QueueSize bounds the invalidations accepted while Redis is away,
	// waiting to be published; past it POST /invalidations answers 503.
	// Default 1000.
	QueueSize int `yaml:"queue_size"`
	// SharedTier is the second cache tier in Redis; off by default.
	SharedTier SharedTierConfig `yaml:"shared_tier"`
}

// RedisConfig says how to reach Redis (or Valkey). Either URL
// (redis://user:password@host:port/db, rediss:// for TLS) or Address.
// Credentials belong in ${ENV} references, never in the file.
type RedisConfig struct {
	URL      string `yaml:"url"`
	Address  string `yaml:"address"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	DB       int    `yaml:"db"`
	// TLS turns TLS on (implied by rediss://) and configures it.
	TLS *TLSConfig `yaml:"tls"`
	// DialTimeout bounds a connection attempt. Default 1s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Timeout bounds each command on a viewer's path (the shared tier,
	// counters). Default 250ms.
	Timeout time.Duration `yaml:"timeout"`
}

// TLSConfig configures TLS to Redis.
type TLSConfig struct {
	// CAFile holds the PEM certificates that sign the server's; default
	// the system's roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate (mutual TLS).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `yaml:"server_name"`
}

// SharedTierConfig is the shared second cache tier.
type SharedTierConfig struct {
	// Enabled turns the tier on for the behaviors listed, or every cached
	// behavior when the list is empty.
	Enabled bool `yaml:"enabled"`
	// Behaviors are path patterns of behaviors that use the tier.
	Behaviors []string `yaml:"behaviors"`
	// MaxObjectSize is the largest body kept in the tier. Default 1MiB.
	MaxObjectSize size.Bytes `yaml:"max_object_size"`
	// LockTTL bounds how long one node holds the fleet-wide lock for
	// filling an object. Default 10s.
	LockTTL time.Duration `yaml:"lock_ttl"`
	// CollapseWait bounds how long the other nodes wait for that fill
	// before going to the origin themselves. Default 3s.
	CollapseWait time.Duration `yaml:"collapse_wait"`
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Node == "" {
		c.Node, _ = os.Hostname()
	}
	if c.DisconnectBound == 0 {
		c.DisconnectBound = DefaultDisconnectBound
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.Stream == "" {
		c.Stream = c.KeyPrefix + ":invalidations"
	}
	if c.StreamMaxLen == 0 {
		c.StreamMaxLen = DefaultStreamMaxLen
	}
	if c.QueueSize == 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.Redis.DialTimeout == 0 {
		c.Redis.DialTimeout = DefaultDialTimeout
	}
	if c.Redis.Timeout == 0 {
		c.Redis.Timeout = DefaultTimeout
	}
	t := &c.SharedTier
	if t.MaxObjectSize == 0 {
		t.MaxObjectSize = DefaultTierMaxObject
	}
	if t.LockTTL == 0 {
		t.LockTTL = DefaultLockTTL
	}
	if t.CollapseWait == 0 {
		t.CollapseWait = DefaultCollapseWait
	}
}

var nodeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$`)

// Validate reports every problem, each prefixed with its key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf(key+": "+format, args...))
	}
	r := c.Redis
	switch {
	case r.URL == "" && r.Address == "":
		bad("redis", "url or address is required")
	case r.URL != "" && r.Address != "":
		bad("redis.address", "set url or address, not both")
	case r.URL != "":
		if _, err := redis.ParseURL(r.URL); err != nil {
			bad("redis.url", "want redis://[user:password@]host:port[/db] or rediss://...: %v", redactErr(err, r.URL))
		}
	default:
		if _, _, err := net.SplitHostPort(r.Address); err != nil {
			bad("redis.address", "want host:port, got %q", r.Address)
		}
	}
	if r.DB < 0 {
		bad("redis.db", "must be >= 0")
	}
	if r.TLS != nil && (r.TLS.CertFile == "") != (r.TLS.KeyFile == "") {
		bad("redis.tls", "cert_file and key_file go together")
	}
	if r.DialTimeout < 0 {
		bad("redis.dial_timeout", "must be > 0")
	}
	if r.Timeout < 0 {
		bad("redis.timeout", "must be > 0")
	}
	if !nodeName.MatchString(c.Node) {
		bad("node", "want letters, digits, '.', '-' and '_' (up to 253), got %q", c.Node)
	}
	if c.DisconnectBound < 0 {
		bad("disconnect_bound", "must be > 0")
	}
	if c.Heartbeat < 0 {
		bad("heartbeat", "must be > 0")
	} else if c.DisconnectBound > 0 && c.Heartbeat > c.DisconnectBound {
		bad("heartbeat", "%s is longer than disconnect_bound %s", c.Heartbeat, c.DisconnectBound)
	}
	if c.StreamMaxLen < 1 {
		bad("stream_max_len", "must be >= 1")
	}
	if c.QueueSize < 1 {
		bad("queue_size", "must be >= 1")
	}
	t := c.SharedTier
	if t.MaxObjectSize < 0 {
		bad("shared_tier.max_object_size", "must be > 0")
	}
	if t.LockTTL < 0 {
		bad("shared_tier.lock_ttl", "must be > 0")
	}
	if t.CollapseWait < 0 {
		bad("shared_tier.collapse_wait", "must be > 0")
	}
	return errors.Join(errs...)
}

// redactErr keeps a URL's password out of an error message.
func redactErr(err error, rawURL string) string {
	msg := err.Error()
	if rawURL == "" {
		return msg
	}
	return strings.ReplaceAll(msg, rawURL, "<url>")
}

// options builds the go-redis options from a validated configuration.
func (r *RedisConfig) options() (*redis.Options, error) {
	o := &redis.Options{Addr: r.Address}
	if r.URL != "" {
		var err error
		if o, err = redis.ParseURL(r.URL); err != nil {
			return nil, fmt.Errorf("redis.url: %s", redactErr(err, r.URL))
		}
	}
	if r.Username != "" {
		o.Username = r.Username
	}
	if r.Password != "" {
		o.Password = r.Password
	}
	if r.DB != 0 {
		o.DB = r.DB
	}
	if r.TLS != nil {
		tc, err := r.TLS.config(o.TLSConfig)
		if err != nil {
			return nil, err
		}
		if tc.ServerName == "" {
			tc.ServerName, _, _ = net.SplitHostPort(o.Addr)
		}
		o.TLSConfig = tc
	}
	o.DialTimeout = r.DialTimeout
	o.ReadTimeout = r.Timeout
	o.WriteTimeout = r.Timeout
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true // CLIENT SETINFO is 7.2+; older servers and Valkey forks differ
	o.Protocol = 2
	o.MaxRetries = -1   // a failing command falls back at once; the loops retry
	o.DialerRetries = 1 // likewise for a failing dial
	o.PoolTimeout = r.Timeout
	return o, nil
}

// config is the TLS configuration, on top of base (from a rediss:// URL).
func (t *TLSConfig) config(base *tls.Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		tc = base.Clone()
	}
	if t.ServerName != "" {
		tc.ServerName = t.ServerName
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("redis.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis.tls.ca_file: %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("redis.tls: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
