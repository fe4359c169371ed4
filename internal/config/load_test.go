package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgeward/edgeward/internal/size"
)

type testOrigin struct {
	URL     string        `yaml:"url"`
	Timeout time.Duration `yaml:"timeout"`
}

type testBehavior struct {
	Pattern string `yaml:"path_pattern"`
	Origin  string `yaml:"origin"`
}

type testInline struct {
	Listen string `yaml:"listen"`
}

type testFile struct {
	testInline `yaml:",inline"`
	Origins    map[string]testOrigin `yaml:"origins"`
	Behaviors  []testBehavior        `yaml:"behaviors"`
	Max        size.Bytes            `yaml:"max"`
	Debug      bool                  `yaml:"debug"`
	Retries    int                   `yaml:"retries"`
}

func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDecode_ReportsLineAndPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string // substrings, one per expected problem, in order
	}{
		{
			name: "unknown key names the path and the known keys",
			yaml: "listen: x\norigins:\n  a:\n    url: http://a\n    timout: 5s\n",
			want: []string{`t.yaml:5: origins.a.timout: unknown key (known: timeout, url)`},
		},
		{
			name: "unknown top-level key, inline fields are known",
			yaml: "listen: x\nlisten_addr: y\n",
			want: []string{`t.yaml:2: listen_addr: unknown key`},
		},
		{
			name: "unknown key inside a list item",
			yaml: "behaviors:\n  - path_pattern: '*'\n    orgin: a\n",
			want: []string{`t.yaml:3: behaviors[0].orgin: unknown key`},
		},
		{
			name: "type mismatch keeps the yaml line",
			yaml: "listen: x\nretries: many\n",
			want: []string{`t.yaml:2: retries: want an integer, got "many"`},
		},
		{
			name: "a quoted boolean is not a boolean",
			yaml: "debug: \"false\"\n",
			want: []string{`t.yaml:1: debug: want true or false (unquoted), got the quoted string "false"`},
		},
		{
			name: "bad size",
			yaml: "max: 10XB\n",
			want: []string{`t.yaml:1: max: invalid size "10XB"`},
		},
		{
			name: "unset environment variable is named",
			yaml: "listen: x\norigins:\n  a:\n    url: ${NOPE}\n",
			want: []string{`t.yaml:4: environment variable NOPE is not set`},
		},
		{
			name: "syntax error",
			yaml: "listen: [x\n",
			want: []string{`t.yaml`},
		},
		{
			name: "empty file",
			yaml: "",
			want: []string{`t.yaml: the file is empty`},
		},
		{
			name: "duplicate key",
			yaml: "listen: a\nlisten: b\n",
			want: []string{`already defined`},
		},
		{
			name: "every type error is reported, each with its key",
			yaml: "retries: abc\nmax: -5\ndebug: 3\norigins:\n  a:\n    timeout: 5x\n",
			want: []string{
				`t.yaml:1: retries: want an integer, got "abc"`,
				`t.yaml:2: max: invalid size "-5"`,
				`t.yaml:3: debug: want true or false (unquoted), got "3"`,
				`t.yaml:6: origins.a.timeout: want a duration such as 500ms, 30s or 1h, got "5x"`,
			},
		},
		{
			name: "a list where the file's mapping belongs names no Go type",
			yaml: "- listen: x\n",
			want: []string{`t.yaml:1: the file must be a mapping (key: value), got a list`},
		},
		{
			name: "a list where a mapping of names belongs",
			yaml: "origins:\n  - url: http://a\n",
			want: []string{`t.yaml:2: origins: want a mapping of names to settings (name: ...), got a list`},
		},
		{
			name: "a scalar where a list belongs",
			yaml: "behaviors: /orders\n",
			want: []string{`t.yaml:1: behaviors: want a list, got "/orders"`},
		},
		{
			name: "a second document is an error, not ignored",
			yaml: "listen: a\n---\nlisten: b\n",
			want: []string{`t.yaml:2: a second YAML document (after ---) is not read`},
		},
		{
			name: "several problems are all reported",
			yaml: "lissen: a\norigins:\n  a:\n    urll: x\n",
			want: []string{`t.yaml:1: lissen`, `t.yaml:4: origins.a.urll`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var f testFile
			err := decode("t.yaml", []byte(tt.yaml), &f, env(nil)).Err()
			if err == nil {
				t.Fatalf("decode(%q) = nil error, want %q", tt.yaml, tt.want)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("decode error is %T, want Problems", err)
			}
			if len(ps) != len(tt.want) {
				t.Fatalf("decode(%q) gave %d problems:\n%v\nwant %d", tt.yaml, len(ps), err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(ps[i].Error(), w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, ps[i].Error(), w)
				}
				for _, leak := range []string{"!!", "config.", "map[", "testFile", "time.Duration", "unmarshal"} {
					if strings.Contains(ps[i].Error(), leak) {
						t.Errorf("problem %d = %q names a Go or YAML internal (%q)", i, ps[i].Error(), leak)
					}
				}
			}
		})
	}
}

func TestDecode_ExpandsEnvInScalarsOnly(t *testing.T) {
	t.Parallel()
	y := "listen: ${ADDR}\nretries: ${N}\norigins:\n  a:\n    url: \"http://${HOST}/p$$x\"\n    timeout: ${T}\n"
	var f testFile
	// A value that looks like YAML structure must stay a plain string.
	err := decode("t.yaml", []byte(y), &f, env(map[string]string{
		"ADDR": "127.0.0.1:1", "N": "3", "HOST": "h: {x}", "T": "2s",
	})).Err()
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if f.Listen != "127.0.0.1:1" || f.Retries != 3 || f.Origins["a"].URL != "http://h: {x}/p$x" || f.Origins["a"].Timeout != 2*time.Second {
		t.Errorf("decode = %+v", f)
	}
}

func TestCheck_MapsValidationPathsToLines(t *testing.T) {
	t.Parallel()
	y := "listen: x\norigins:\n  orders-api:\n    url: ftp://a\nbehaviors:\n  - path_pattern: /a\n    origin: orders-api\n  - path_pattern: '*'\n    origin: ordres\n"
	var f testFile
	s := decode("edgeward.yaml", []byte(y), &f, env(nil))
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	s.Check("origins.orders-api", errors.Join(errors.New("url: scheme must be http or https")))
	s.Errorf("behaviors[1].origin", "unknown origin %q (known: orders-api)", "ordres")
	s.Errorf("behaviors[1].viewer_request", "missing") // absent key: line of the parent
	got := s.Err().Error()
	want := strings.Join([]string{
		`edgeward.yaml:4: origins.orders-api.url: scheme must be http or https`,
		`edgeward.yaml:8: behaviors[1].viewer_request: missing`,
		`edgeward.yaml:9: behaviors[1].origin: unknown origin "ordres" (known: orders-api)`,
	}, "\n")
	if got != want {
		t.Errorf("problems =\n%s\nwant\n%s", got, want)
	}
}
