# ecrd's container image: one static binary on an empty base, run as an
# unprivileged user, with its data on a volume.
#
#   docker build -t ecrd --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg REVISION="$(git rev-parse HEAD)" .
#
# scripts/build-image.sh builds the same image without a Docker daemon: it
# runs the build stage's `go build` itself and reads the final stage from this
# file (deploy/imagebuild). So the final stage may use only FROM scratch, ARG,
# COPY --from=<stage> (with --chown=UID:GID and --chmod), ENV, LABEL, USER,
# WORKDIR, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, ENTRYPOINT and CMD, and
# the `go build` line must stay the one scripts/build-image.sh runs (a test in
# deploy/imagebuild compares them).

FROM --platform=$BUILDPLATFORM golang:1.26.8 AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false -ldflags="-s -w -X github.com/ecrd/ecrd/internal/buildinfo.Version=$VERSION -X github.com/ecrd/ecrd/internal/buildinfo.Revision=$REVISION" -o /out/ecrd ./cmd/ecrd \
 && mkdir /out/data

FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="ecrd" \
      org.opencontainers.image.description="An Amazon ECR-compatible container registry in one Go binary" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="$VERSION"
COPY --from=build --chmod=0755 /out/ecrd /usr/local/bin/ecrd
# The data dir belongs to the user ecrd runs as; a volume created from the
# image (docker run -v NAME:/var/lib/ecrd) starts with its owner and mode.
COPY --from=build --chown=65532:65532 --chmod=0750 /out/data /var/lib/ecrd
# On a non-loopback address ecrd refuses to start without --credentials
# (ECRD_CREDENTIALS) or --auth=none: mount a credentials file, see README.
ENV ECRD_DATA_DIR=/var/lib/ecrd ECRD_LISTEN=0.0.0.0:5000
USER 65532:65532
WORKDIR /var/lib/ecrd
# 5000: the ECR and ECR Public APIs and /v2/; 5001: ECR Public's /v2/.
EXPOSE 5000 5001
VOLUME ["/var/lib/ecrd"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/ecrd", "health"]
ENTRYPOINT ["/usr/local/bin/ecrd"]
CMD ["serve"]
