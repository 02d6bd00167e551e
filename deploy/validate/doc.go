// Package validate holds the offline checks of ecrd's deploy files, run by
// `go test ./...` in this directory (a module of its own, so that the
// Kubernetes and Compose libraries stay out of ecrd's): every Kubernetes
// manifest decodes strictly into the k8s.io/api types and refers only to
// what the others define, the three-replica overlay
// (deploy/kubernetes-scaleout) builds with kustomize as kubectl builds it
// and runs on the scale-out stores, deploy/compose.yaml passes the Compose
// specification's schema, the config file and credentials examples are
// what the manifests carry, the systemd unit runs what they describe, and
// the Grafana dashboard charts every ecrd metric.
package validate
