# syntax=docker/dockerfile:1
# Container image for edgeward: a static binary in a distroless base, running as a numeric
# non-root user (Kubernetes' runAsNonRoot can check a number, not a name).
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t edgeward .
#   docker run --rm -p 8080:8080 -v "$PWD/conf:/etc/edgeward:ro" -e EDGEWARD_GATEWAY_CREDENTIAL edgeward
#
# The configuration is read from /etc/edgeward/edgeward.yaml: mount a directory there (a
# Kubernetes ConfigMap, or a host directory). Without a mount the image runs
# examples/container/edgeward.yaml, which listens on 0.0.0.0 and takes the origin, the
# decision service and the gateway credential from the environment. See docs/operations.md.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/edgeward/edgeward/internal/cli.Version=${VERSION}" \
      -o /out/edgeward ./cmd/edgeward

# distroless/static: CA certificates, time zones and /etc/passwd, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edgeward /usr/local/bin/edgeward
COPY examples/container/edgeward.yaml /etc/edgeward/edgeward.yaml
# 8080: viewer listener; 9901: admin (health, metrics, invalidations): publish it only to
# the host or a private network.
EXPOSE 8080 9901
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/edgeward"]
CMD ["serve", "-c", "/etc/edgeward/edgeward.yaml"]
