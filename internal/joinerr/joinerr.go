// Package joinerr reads the trees errors.Join builds. Configuration
// validation reports every problem at once as such a tree, and the
// loaders list its leaves one per line, each with its key path.
package joinerr

// Leaves returns the errors at the leaves of err, in order: err itself
// when it joins nothing, none when it is nil.
func Leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Leaves(e)...)
		}
		return out
	}
	return []error{err}
}
