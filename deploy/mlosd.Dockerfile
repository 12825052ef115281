# mlosd (MLOS Core) with the ONNX Runtime 1.24.1 library. Build from the repository root:
#   docker build -f deploy/mlosd.Dockerfile -t mlosd .
# The library comes from scripts/install-ort.sh, the same script `go tool task ort` and CI run
# (official release archive, else the sha256-pinned copy in the npm package onnxruntime-node).
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends curl npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN AXON_TOOLS=/opt/axon-tools scripts/install-ort.sh
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/mlosd ./cmd/mlosd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 mlosd && useradd --system --uid 10001 --gid 10001 --home /var/lib/mlosd mlosd && mkdir -p /var/lib/mlosd && chown mlosd /var/lib/mlosd
COPY --from=build /opt/axon-tools/onnxruntime-1.24.1/libonnxruntime.so /usr/lib/libonnxruntime.so
COPY --from=build /out/mlosd /usr/local/bin/mlosd
ENV ONNXRUNTIME_LIB=/usr/lib/libonnxruntime.so
USER 10001:10001
EXPOSE 8080
VOLUME /var/lib/mlosd
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/mlosd", "--healthcheck", "--addr", "127.0.0.1:8080"]
ENTRYPOINT ["/usr/local/bin/mlosd"]
CMD ["--addr", "0.0.0.0:8080", "--data", "/var/lib/mlosd"]
