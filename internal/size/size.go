// Package size holds Bytes, a byte count that configuration files write as
// "40KB", "64MiB" or a plain number, so that every limit in edgeward's YAML
// reads the same way.
package size

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bytes is a number of bytes. In YAML it accepts a plain integer or an
// integer followed by a unit: B, KB/KiB, MB/MiB, GB/GiB. Both the decimal and
// binary spellings mean powers of 1024, as nginx and Caddy operators expect.
type Bytes int64

// Common sizes.
const (
	KiB Bytes = 1 << 10
	MiB Bytes = 1 << 20
	GiB Bytes = 1 << 30
)

var units = []struct {
	suffix string
	mult   Bytes
}{
	{"KIB", KiB}, {"MIB", MiB}, {"GIB", GiB},
	{"KB", KiB}, {"MB", MiB}, {"GB", GiB},
	{"K", KiB}, {"M", MiB}, {"G", GiB},
	{"B", 1},
}

// Parse reads a size such as "512", "40KB" or "1 MiB".
func Parse(s string) (Bytes, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := Bytes(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			mult = u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want a number of bytes, e.g. 512, 40KB, 64MiB)", s)
	}
	if n > int64(1<<62)/int64(mult) {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return Bytes(n) * mult, nil
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *Bytes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a size such as 40KB, got a %s", n.Line, kindName(n.Kind))
	}
	v, err := Parse(n.Value)
	if err != nil {
		// yaml.v3 does not add a line to an Unmarshaler's error; write it
		// the way yaml.v3 writes its own so that callers can find it.
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (b Bytes) MarshalYAML() (any, error) { return b.String(), nil }

// String formats b with the largest exact binary unit.
func (b Bytes) String() string {
	switch {
	case b != 0 && b%GiB == 0:
		return strconv.FormatInt(int64(b/GiB), 10) + "GiB"
	case b != 0 && b%MiB == 0:
		return strconv.FormatInt(int64(b/MiB), 10) + "MiB"
	case b != 0 && b%KiB == 0:
		return strconv.FormatInt(int64(b/KiB), 10) + "KiB"
	}
	return strconv.FormatInt(int64(b), 10)
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}
