package edge

import "github.com/edgeward/edgeward/internal/requestid"

// idSource is the edge's request-id source. The names stay while server.go
// refers to them; the ids come from internal/requestid, the one source.
type idSource = requestid.Source

func newIDSource() *idSource { return requestid.New() }
