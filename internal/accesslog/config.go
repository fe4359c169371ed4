package accesslog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgeward/edgeward/internal/size"
)

// Special values of SinkConfig.Path.
const (
	PathStdout = "stdout"
	PathStderr = "stderr"
	PathOff    = "off"
)

// Formats of LogConfig.Format.
const (
	FormatCloudFront = "cloudfront"
	FormatJSON       = "json"
)

// Defaults.
const (
	DefaultMaxSize    = 100 * size.MiB
	DefaultMaxBackups = 5
	DefaultBuffer     = 8192
	DefaultLocation   = "edgeward"
	maxBuffer         = 1 << 20
)

// SinkConfig says where a Sink writes lines and how a log file rotates. It
// is meant to be inlined in the configuration of each log that writes
// through a Sink (the access log, the decision log).
type SinkConfig struct {
	// Path is "stdout", "stderr", "off" or a file path.
	Path string `yaml:"path"`
	// MaxSize is the size at which a log file is rotated: it is renamed to
	// Path.1, older backups shift to Path.2 and so on. Unset means 100MiB.
	// Ignored for stdout and stderr.
	MaxSize size.Bytes `yaml:"max_size"`
	// MaxBackups is how many rotated files are kept. Unset (0) means 5;
	// -1 keeps none (a full file is removed and started again).
	MaxBackups int `yaml:"max_backups"`
	// Buffer is how many lines may wait to be written; further lines are
	// dropped (and counted) rather than slow down requests.
	Buffer int `yaml:"buffer"`
}

// Defaults fills unset fields: path stdout, max_size 100MiB, max_backups 5,
// buffer 8192 lines.
func (c *SinkConfig) Defaults() {
	if c.Path == "" {
		c.Path = PathStdout
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MaxBackups == 0 {
		c.MaxBackups = DefaultMaxBackups
	}
	if c.Buffer == 0 {
		c.Buffer = DefaultBuffer
	}
}

// Validate reports every problem in c, each as "key: message".
func (c *SinkConfig) Validate() error {
	var errs []error
	switch c.Path {
	case "":
		errs = append(errs, errors.New(`path: must be set (stdout, stderr, off or a file path)`))
	case PathStdout, PathStderr, PathOff:
	default:
		if strings.ContainsRune(c.Path, 0) {
			errs = append(errs, errors.New("path: contains a NUL byte"))
			break
		}
		dir := filepath.Dir(c.Path)
		if fi, err := os.Stat(dir); err != nil {
			errs = append(errs, fmt.Errorf("path: directory %q of %q does not exist (create it, or use stdout)", dir, c.Path))
		} else if !fi.IsDir() {
			errs = append(errs, fmt.Errorf("path: %q is not a directory", dir))
		}
	}
	if c.MaxSize <= 0 {
		errs = append(errs, fmt.Errorf("max_size: must be > 0, got %d", c.MaxSize))
	}
	if c.MaxBackups < -1 {
		errs = append(errs, fmt.Errorf("max_backups: must be >= -1 (-1 keeps no backup), got %d", c.MaxBackups))
	}
	if c.Buffer <= 0 || c.Buffer > maxBuffer {
		errs = append(errs, fmt.Errorf("buffer: must be between 1 and %d lines, got %d", maxBuffer, c.Buffer))
	}
	return errors.Join(errs...)
}

// LogConfig is the access_log section:
//
//	access_log: {path: stdout, format: cloudfront, max_size: 100MiB, max_backups: 5,
//	             location: edgeward, include_cookies: false, buffer: 8192}
type LogConfig struct {
	SinkConfig `yaml:",inline"`
	// Format is "cloudfront" (W3C, tab-separated) or "json".
	Format string `yaml:"format"`
	// Location is the x-edge-location value, the name of this edge.
	Location string `yaml:"location"`
	// IncludeCookies logs the Cookie header in cs(Cookie), as CloudFront's
	// "include cookies" logging option does. Off by default: cookies often
	// carry session credentials.
	IncludeCookies bool `yaml:"include_cookies"`
	// RedactQuery names query parameters whose values are logged as
	// REDACTED in cs-uri-query (OAuth 2.0 bearer tokens may travel as
	// access_token, RFC 6750 section 2.3). Unset means [access_token]; an
	// empty list logs the query exactly as received, as CloudFront does.
	RedactQuery []string `yaml:"redact_query"`
}

// Defaults fills unset fields: the sink defaults, format cloudfront,
// location edgeward, redact_query [access_token].
func (c *LogConfig) Defaults() {
	c.SinkConfig.Defaults()
	if c.Format == "" {
		c.Format = FormatCloudFront
	}
	if c.Location == "" {
		c.Location = DefaultLocation
	}
	if c.RedactQuery == nil {
		c.RedactQuery = []string{"access_token"}
	}
}

// Validate reports every problem in c, each as "key: message".
func (c *LogConfig) Validate() error {
	errs := []error{c.SinkConfig.Validate()}
	switch c.Format {
	case FormatCloudFront, FormatJSON:
	default:
		errs = append(errs, fmt.Errorf("format: unknown format %q (want cloudfront or json)", c.Format))
	}
	switch {
	case c.Location == "":
		errs = append(errs, errors.New("location: must be set"))
	case len(c.Location) > 64:
		errs = append(errs, fmt.Errorf("location: %d bytes long, want at most 64", len(c.Location)))
	case strings.IndexFunc(c.Location, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
		errs = append(errs, fmt.Errorf("location: %q has spaces, control or non-ASCII characters", c.Location))
	}
	for i, name := range c.RedactQuery {
		if name == "" {
			errs = append(errs, fmt.Errorf("redact_query[%d]: empty parameter name", i))
		}
	}
	return errors.Join(errs...)
}
