# syntax=docker/dockerfile:1
# The bookstore example as a static binary in an empty image.
#   docker build -t bookstore .
#   docker run --rm -p 8000:8000 -e BOOKSTORE_SECRET=change-me bookstore
# See docs/deployment.md for the environment variables and the image size.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so a source change does not refetch modules.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: the embedded SQLite is pure Go (modernc), so the binary is
# fully static and runs in a scratch image. The validator_novalidatefn tag
# drops validator/v10's "validateFn" rule (Cosworth does not use it), whose
# reflect.MethodByName call with a run-time name stops the linker from
# removing unused methods: the binary is about 10 MB smaller without it.
RUN CGO_ENABLED=0 go build -tags validator_novalidatefn -trimpath -ldflags "-s -w" -o /out/bookstore ./examples/bookstore
# A user database for the non-root user, and a data directory it owns (the
# SQLite file lives there unless DATABASE_URL points elsewhere).
RUN echo 'nonroot:x:65532:65532:nonroot:/data:/sbin/nologin' > /out/passwd \
 && echo 'nonroot:x:65532:' > /out/group \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/bookstore /bookstore
USER 65532:65532
WORKDIR /data
ENV BOOKSTORE_ADDR=0.0.0.0:8000
EXPOSE 8000
VOLUME /data
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/bookstore", "-healthcheck"]
ENTRYPOINT ["/bookstore"]
