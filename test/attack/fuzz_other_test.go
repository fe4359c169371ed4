//go:build !unix

package attack

// keepPipesFromChildren is a no-op where child processes inherit only the
// descriptors they are given.
func keepPipesFromChildren() {}
