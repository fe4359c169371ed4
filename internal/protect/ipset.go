package protect

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxIPFileBytes bounds an IP set file.
const maxIPFileBytes = 16 << 20

// ipFileQuiet is how long a changed IP set file must stay unchanged
// before it is read again.
const ipFileQuiet = 100 * time.Millisecond

// ipSet is a named list of prefixes. The inline part is fixed; the file
// part is replaced whole when the file changes.
type ipSet struct {
	name     string
	inline   []netip.Prefix
	file     string
	fromFile atomic.Pointer[[]netip.Prefix]
}

// newIPSet parses cfg; the file, if any, is read now.
func newIPSet(name string, cfg IPSetConfig) (*ipSet, error) {
	s := &ipSet{name: name, file: cfg.File}
	for i, c := range cfg.CIDRs {
		p, err := parseCIDR(c)
		if err != nil {
			return nil, fmt.Errorf("ip_sets.%s.cidrs[%d]: %w", name, i, err)
		}
		s.inline = append(s.inline, p)
	}
	if cfg.File != "" {
		ps, err := readIPFile(cfg.File)
		if err != nil {
			return nil, fmt.Errorf("ip_sets.%s.file: %w", name, err)
		}
		s.fromFile.Store(&ps)
	}
	return s, nil
}

// contains reports whether a is in the set. An IPv4-mapped IPv6 address
// is matched as the IPv4 address it is.
func (s *ipSet) contains(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range s.inline {
		if p.Contains(a) {
			return true
		}
	}
	if ps := s.fromFile.Load(); ps != nil {
		for _, p := range *ps {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// reload reads the file again; on error the last good list stays.
func (s *ipSet) reload() error {
	ps, err := readIPFile(s.file)
	if err != nil {
		return err
	}
	s.fromFile.Store(&ps)
	return nil
}

// parseCIDR accepts a CIDR or a single address (IPv4 or IPv6).
func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR (e.g. 192.0.2.0/24 or 2001:db8::/32)", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// readIPFile reads one CIDR or address a line; blank lines and # comments
// are skipped. Every bad line is reported with its number.
func readIPFile(path string) ([]netip.Prefix, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) > maxIPFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxIPFileBytes)
	}
	return parseIPList(path, data)
}

func parseIPList(name string, data []byte) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		p, err := parseCIDR(line)
		if err != nil {
			if len(bad) < 10 {
				bad = append(bad, fmt.Sprintf("%s:%d: %v", name, n, err))
			}
			continue
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return out, nil
}

// watchIPSets re-reads the files of sets when they change, until ctx is
// done. Directories are watched, since editors and config tools replace
// files rather than write them.
func watchIPSets(ctx context.Context, sets []*ipSet, log *slog.Logger) error {
	byFile := map[string][]*ipSet{}
	for _, s := range sets {
		if s.file != "" {
			abs, err := filepath.Abs(s.file)
			if err != nil {
				return err
			}
			byFile[abs] = append(byFile[abs], s)
		}
	}
	if len(byFile) == 0 {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	dirs := map[string]bool{}
	for f := range byFile {
		if d := filepath.Dir(f); !dirs[d] {
			dirs[d] = true
			if err := w.Add(d); err != nil {
				w.Close()
				return err
			}
		}
	}
	go func() {
		defer w.Close()
		// Tools write a file in several steps (truncate, write): the
		// file is read once it has been quiet for a moment.
		pending := map[string]bool{}
		var quiet <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if f := filepath.Clean(ev.Name); byFile[f] != nil {
					pending[f] = true
					quiet = time.After(ipFileQuiet)
				}
			case <-quiet:
				quiet = nil
				for f := range pending {
					delete(pending, f)
					for _, s := range byFile[f] {
						if err := s.reload(); err != nil {
							log.Error("IP set file not reloaded; keeping the last good list", "ip_set", s.name, "file", s.file, "err", err.Error())
							continue
						}
						log.Info("IP set reloaded", "ip_set", s.name, "file", s.file)
					}
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				log.Warn("IP set watcher", "err", err.Error())
			}
		}
	}()
	return nil
}
