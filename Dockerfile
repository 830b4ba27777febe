# The distill frontend image: `# syntax=<registry>/distill-build/distill:<tag>` runs it.
# Builder: a static Go binary compiled as a non-root user, with no network, and a Go build cache mount.
# Runtime: distroless static, non-root, entrypoint `distill frontend`.
ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS TARGETARCH
# forwarded from the caller's environment so a build uses the same module sources it does
ARG GOPROXY GONOSUMDB GOPRIVATE GOFLAGS
ARG VERSION=dev
ENV CGO_ENABLED=0 GOCACHE=/home/build/.cache/go-build GOMODCACHE=/home/build/go/pkg/mod HOME=/home/build
RUN ["mkdir", "-p", "/home/build/.cache/go-build", "/home/build/go/pkg/mod", "/src", "/out"]
RUN ["chown", "-R", "10001:10001", "/home/build", "/src", "/out"]
USER 10001:10001
WORKDIR /src
# Modules go into a layer of this stage, not a cache mount: the compile below
# has no network, and a cache mount the engine dropped (GC, prune) while this
# step stayed cached would leave it with no modules. The layer never ships.
RUN --mount=type=bind,source=go.mod,target=go.mod --mount=type=bind,source=go.sum,target=go.sum \
    ["go", "mod", "download"]
RUN --mount=type=bind,target=/src,readonly \
    --mount=type=cache,id=distill-gobuild,target=/home/build/.cache/go-build,uid=10001,gid=10001 \
    --network=none \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/distill-build/distill/internal/version.Version=$VERSION" -o /out/distill ./cmd/distill

FROM gcr.io/distroless/static-debian13:nonroot
# BuildKit reads these from the frontend image: the frontend process needs no
# network (it resolves images through the gateway API), and it answers
# --call subrequests (check, targets, outline) and named contexts via dockerui.
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
LABEL org.opencontainers.image.source="https://github.com/distill-build/distill" \
      org.opencontainers.image.description="distill: secure-by-default images from distill.yaml (BuildKit frontend)"
COPY --link --chown=0:0 --from=build /out/distill /usr/bin/distill
USER 65532:65532
ENTRYPOINT ["/usr/bin/distill", "frontend"]
