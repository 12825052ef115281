# axon-registry: a static binary on a minimal base. Build from the repository root:
#   docker build -f deploy/registry.Dockerfile -t axon-registry .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/axon-registry ./cmd/axon-registry

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/axon-registry /usr/local/bin/axon-registry
EXPOSE 5000
VOLUME /var/lib/axon-registry
ENTRYPOINT ["/usr/local/bin/axon-registry"]
CMD ["--addr", "0.0.0.0:5000", "--root", "/var/lib/axon-registry"]
