# syntax=docker/dockerfile:1
# Verity's container image: built in one stage with the Rust toolchain, run in a small Debian
# image as an unprivileged user. docs/deployment.md ("Docker") says how to build and run it,
# and what was and was not built by Verity's own CI.
#
#   docker build -t verity .
#   docker run -v verity-data:/var/lib/verity/data -v verity-keys:/var/lib/verity/keys \
#     -v ./verity.yaml:/etc/verity/verity.yaml:ro -p 8090:8090 verity

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY . .
# The lock file as committed (--locked); only the server binary. The caches keep crates and
# build artifacts between builds on the same builder (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package verity --bin verity \
    && install -m 0755 target/release/verity /usr/local/bin/verity

FROM debian:${DEBIAN_RELEASE}-slim
# ca-certificates: TLS to homeservers, SMTP, Twilio and other identity servers; curl: the
# health check below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 verity \
    && useradd --system --uid 10001 --gid verity --home-dir /var/lib/verity --shell /usr/sbin/nologin verity \
    && install -d -o verity -g verity -m 0700 /var/lib/verity /var/lib/verity/data /var/lib/verity/keys \
    && install -d -m 0755 /etc/verity
COPY --from=build /usr/local/bin/verity /usr/local/bin/verity
COPY deploy/docker/verity.yaml /etc/verity/verity.yaml

# The SQLite store (unused on PostgreSQL) and the signing keys: both outlive the container.
# Back up both (docs/deployment.md).
VOLUME ["/var/lib/verity/data", "/var/lib/verity/keys"]
USER verity:verity
WORKDIR /var/lib/verity
ENV VERITY_CONFIG=/etc/verity/verity.yaml
EXPOSE 8090
# The liveness probe answers 200 while the process serves (a failing store does not get the
# container restarted); /_verity/health/ready also asks the store and the key (docs/operations.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8090/_verity/health/live || exit 1
# `docker stop` sends SIGTERM: in-flight requests finish, then the store closes. SIGHUP
# (`docker kill -s HUP`) reloads the configuration.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/verity"]
