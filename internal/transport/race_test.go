//go:build race

package transport

// raceEnabled: the race detector does not see the socket between a test
// and a server goroutine as synchronisation.
const raceEnabled = true
