# Container image for edgeward. Build: docker build -t edgeward .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/edgeward ./cmd/edgeward

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/edgeward /usr/local/bin/edgeward
COPY examples/edgeward.yaml /etc/edgeward/edgeward.yaml
EXPOSE 8080 9901
USER nonroot
ENTRYPOINT ["/usr/local/bin/edgeward"]
CMD ["serve", "-c", "/etc/edgeward/edgeward.yaml"]
