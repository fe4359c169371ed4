package config

import (
	"maps"
	"reflect"
	"slices"
	"strings"
)

// RestartKeys are the edge file's keys that a reload cannot apply to the
// running process: the addresses it listens on and the shape of its
// listener and process log. A key path matches an entry equal to it or
// below it ("tls" covers "tls.cert_file"). Every other key takes effect on
// reload (docs/operations.md, "Reload").
var RestartKeys = []string{
	"listen",
	"admin",
	"h2c",
	"http1_fast_lane",
	"logging.format",
	// The fleet node and its Redis connections live as long as the store.
	"fleet",
	// tls and the listener's limits reload (new connections get them,
	// edge.Server.Reload); switching between HTTP and HTTPS is refused
	// there, with an error saying it needs a restart.
	// The tracer provider and its exporter are built once, at start.
	"tracing",
}

// DecisionRestartKeys are the keys of a decision service's file that a
// reload cannot apply: only the decision model (decision, except its
// decision_log) reloads.
var DecisionRestartKeys = []string{
	"listen",
	"tls",
	"admin",
	"decision.decision_log",
	"logging.format",
	"logging.access_log",
}

// RestartRequiredDecision is RestartRequired for a decision service's file.
func RestartRequiredDecision(changes []string) []string {
	return matching(changes, DecisionRestartKeys)
}

// Changes lists the key paths, in the file's own spelling, whose values
// differ between two decoded files of the same type: a field of a
// section, an entry of a map by its key, a list as a whole. Values are
// never included (they may hold secrets).
func Changes(old, new any) []string {
	var out []string
	diff(&out, "", reflect.ValueOf(old), reflect.ValueOf(new))
	return out
}

// RestartRequired returns the keys of changes that only a restart applies.
func RestartRequired(changes []string) []string {
	return matching(changes, RestartKeys)
}

// matching returns the changes equal to or below one of keys.
func matching(changes, keys []string) []string {
	var out []string
	for _, c := range changes {
		if slices.ContainsFunc(keys, func(k string) bool { return c == k || strings.HasPrefix(c, k+".") }) {
			out = append(out, c)
		}
	}
	return out
}

func diff(out *[]string, path string, a, b reflect.Value) {
	if a.IsValid() != b.IsValid() {
		*out = append(*out, path)
		return
	}
	if !a.IsValid() {
		return
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				*out = append(*out, path)
			}
			return
		}
		diff(out, path, a.Elem(), b.Elem())
	case reflect.Struct:
		t := a.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, inline := yamlName(f)
			if name == "-" {
				continue
			}
			p := path
			if !inline {
				p = join(path, name)
			}
			diff(out, p, a.Field(i), b.Field(i))
		}
	case reflect.Map:
		if a.Type().Key().Kind() != reflect.String {
			if !reflect.DeepEqual(a.Interface(), b.Interface()) {
				*out = append(*out, path)
			}
			return
		}
		keys := map[string]bool{}
		for _, k := range a.MapKeys() {
			keys[k.String()] = true
		}
		for _, k := range b.MapKeys() {
			keys[k.String()] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			kv := reflect.ValueOf(k).Convert(a.Type().Key())
			diff(out, join(path, k), a.MapIndex(kv), b.MapIndex(kv))
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			*out = append(*out, path)
		}
	}
}

// yamlName returns a field's key and whether it is inlined.
func yamlName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	if strings.Contains(","+opts+",", ",inline,") {
		return "", true
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
