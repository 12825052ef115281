# KServe storage initializer for axon packages: axon pull + axon export into the model
# directory. Build from the repository root:
#   docker build -f deploy/kserve/storage-init.Dockerfile -t axon-storage-init .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/axon ./cmd/axon

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /tmp axon
COPY --from=build /out/axon /usr/local/bin/axon
COPY deploy/kserve/axon-storage-init.sh /usr/local/bin/axon-storage-init
USER 10001
ENV HOME=/tmp
ENTRYPOINT ["/usr/local/bin/axon-storage-init"]
