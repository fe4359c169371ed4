package config

import (
	"log/slog"
	"strings"
)

func (l *Logging) defaults() {
	if l.Level == "" {
		l.Level = "info"
	}
	if l.Format == "" {
		l.Format = "json"
	}
	l.AccessLog.Defaults()
}

func (l *Logging) validate(s *Source, base string) {
	if _, ok := parseLevel(l.Level); !ok {
		s.Errorf(base+".level", "want debug, info, warn or error, got %q", l.Level)
	}
	if l.Format != "json" && l.Format != "text" {
		s.Errorf(base+".format", "want json or text, got %q", l.Format)
	}
	s.Check(base+".access_log", l.AccessLog.Validate())
}

// SlogLevel returns the configured process log level.
func (l *Logging) SlogLevel() slog.Level {
	lv, _ := parseLevel(l.Level)
	return lv
}

func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, true
	case "info", "":
		return slog.LevelInfo, true
	case "warn", "warning":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return slog.LevelInfo, false
}
