package decision

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// conditionCostLimit bounds the work one condition may do per request
// (CEL's cost units: roughly one per operation, more for string and list
// work proportional to their size). Past it the evaluation fails, and the
// request is denied.
const conditionCostLimit = 100_000

// condition is a compiled CEL access_control.condition.
type condition struct {
	src string
	prg cel.Program
}

// newCELEnv declares what a condition can read: request (method, path,
// query, headers, source_ip, params) and claims; CEL's standard library and
// its string extensions (split, lowerAscii, ...) are available.
func newCELEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("claims", cel.MapType(cel.StringType, cel.DynType)),
		ext.Strings(),
	)
}

// compileCondition compiles and type-checks src; it must be a boolean.
func compileCondition(env *cel.Env, src string) (*condition, error) {
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("does not compile: %s", strings.ReplaceAll(iss.Err().Error(), "\n", " "))
	}
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("must be a boolean expression, not %s", t)
	}
	prg, err := env.Program(ast,
		cel.CostLimit(conditionCostLimit),
		cel.InterruptCheckFrequency(100),
	)
	if err != nil {
		return nil, fmt.Errorf("does not compile: %v", err)
	}
	return &condition{src: src, prg: prg}, nil
}

// eval evaluates the condition; anything but a true boolean is false, and
// an evaluation error (a missing key, the cost limit) is an error.
func (c *condition) eval(ctx context.Context, vars *celVars) (bool, error) {
	out, _, err := c.prg.ContextEval(ctx, vars)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition returned %s, not a boolean", out.Type())
	}
	return bool(b), nil
}

// celVars is the activation of a condition, built on first use and shared
// by the service's and the operation's conditions. It holds a copy of the
// Input so that the caller's stays on its stack.
type celVars struct {
	in      Input
	d       *Decision
	request map[string]any
	claims  map[string]any
}

var _ interpreter.Activation = (*celVars)(nil)

// ResolveName implements interpreter.Activation.
func (v *celVars) ResolveName(name string) (any, bool) {
	switch name {
	case "request":
		if v.request == nil {
			v.request = v.buildRequest()
		}
		return v.request, true
	case "claims":
		if v.claims == nil {
			v.claims = map[string]any{}
			if c := v.d.claims; c != nil {
				for k, x := range c.Raw {
					v.claims[k] = x
				}
				for _, k := range []string{"sub", "iss", "client_id"} {
					if _, ok := v.claims[k]; !ok {
						if x, ok := claimValue(c, k); ok {
							v.claims[k] = x
						}
					}
				}
			}
		}
		return v.claims, true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (v *celVars) Parent() interpreter.Activation { return nil }

func (v *celVars) buildRequest() map[string]any {
	in := &v.in
	headers := map[string]string{}
	if in.Headers != nil {
		for i := range in.Headers.Len() {
			n, val := in.Headers.At(i)
			n = strings.ToLower(n)
			if _, ok := headers[n]; !ok {
				headers[n] = val
			}
		}
	}
	query := map[string]string{}
	q, _ := url.ParseQuery(in.Query) // keeps the pairs it could parse
	for k, vs := range q {
		query[k] = vs[0]
	}
	params := map[string]string{}
	for _, p := range v.d.Params {
		params[p.Name] = p.Value
	}
	return map[string]any{
		"method":    in.Method,
		"path":      v.d.Path,
		"query":     query,
		"headers":   headers,
		"source_ip": in.SourceIP,
		"params":    params,
	}
}
