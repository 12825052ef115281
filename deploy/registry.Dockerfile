# axon-registry: a static binary on a minimal base. Build from the repository root:
#   docker build -f deploy/registry.Dockerfile -t axon-registry .
#   docker run -p 5000:5000 -v axon-registry:/var/lib/axon-registry axon-registry
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/axon-registry ./cmd/axon-registry \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/axon-registry /usr/local/bin/axon-registry
# The storage directory belongs to the nonroot user (65532), so filesystem mode works
# in a plain `docker run` and a named volume starts with that owner.
COPY --from=build --chown=65532:65532 /out/data /var/lib/axon-registry
USER 65532:65532
EXPOSE 5000
VOLUME /var/lib/axon-registry
# no shell or curl in the image: the binary asks itself
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/axon-registry", "healthcheck", "--url", "http://127.0.0.1:5000/healthz"]
ENTRYPOINT ["/usr/local/bin/axon-registry"]
CMD ["--addr", "0.0.0.0:5000", "--root", "/var/lib/axon-registry"]
