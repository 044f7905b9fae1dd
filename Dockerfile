# syntax=docker/dockerfile:1
# The bookstore example as a static binary in an empty image, for
# production: PostgreSQL only (DATABASE_URL is required).
#   docker build -t bookstore .
#   docker run --rm -p 8000:8000 -e BOOKSTORE_SECRET=... -e DATABASE_URL=postgres://... bookstore
# See docs/deployment.md for the environment variables and the image size;
# scripts/size.sh builds the same binary (it reads BUILD_TAGS from here).

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so a source change does not refetch modules.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# cosworth_nosqlite: no embedded SQLite (modernc, 3.4 MB); the binary
# refuses to start without a postgres:// DATABASE_URL.
# nethttpomithttp2: no HTTP/2 in net/http (0.5 MB). cosworth.Server serves
# plain HTTP/1.1 behind a TLS-terminating proxy, so nothing is lost but
# HTTP/2 on outgoing https:// requests (forward-auth), which fall back to
# HTTP/1.1.
# nopgxregisterdefaulttypes: pgx leaves out its default mapping of Go types
# to PostgreSQL types (1.4 MB, mostly the generic array and range wrappers
# of every type); models.Open's pool registers it again on each connection
# for every non-generic type, so only pgtype.Array, FlatArray, Range and
# Multirange values lose it (see docs/deployment.md).
ARG BUILD_TAGS="cosworth_nosqlite nethttpomithttp2 nopgxregisterdefaulttypes"
RUN CGO_ENABLED=0 go build -tags "$BUILD_TAGS" -trimpath -ldflags "-s -w" -o /out/bookstore ./examples/bookstore
# A user database for the non-root user.
RUN echo 'nonroot:x:65532:65532:nonroot:/:/sbin/nologin' > /out/passwd \
 && echo 'nonroot:x:65532:' > /out/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/bookstore /bookstore
USER 65532:65532
ENV BOOKSTORE_ADDR=0.0.0.0:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/bookstore", "-healthcheck"]
ENTRYPOINT ["/bookstore"]
