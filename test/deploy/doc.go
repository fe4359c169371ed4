// Package deploy tests what ships around the binary rather than inside it:
// the Helm chart under deploy/helm/edgeward (rendered by helm, decoded
// strictly into Kubernetes' own API types, and its edge and decision files
// loaded by the same code as `edgeward validate`), the container image's
// Dockerfile and example configuration, and the Grafana dashboard under
// deploy/grafana (every metric it queries is one a running edge exports).
//
// It holds tests only; nothing imports it.
package deploy
