// Package config reads edgeward's YAML files. It composes the runtime
// packages' own Config types into one schema, decodes strictly (an unknown
// key is an error), expands ${ENV} references, applies every package's
// defaults in one pass and validates everything at once, so that an operator
// sees every problem in one run, each with its file, line and key:
//
//	edgeward.yaml:14: behaviors[1].origin: unknown origin "ordres" (known: orders-api)
//
// Runtime packages never import config: each owns its Config, Defaults and
// Validate, whose errors start with a key path relative to the package's
// section ("url: scheme must be http or https"); this package prefixes the
// section's path and finds the YAML line.
package config
