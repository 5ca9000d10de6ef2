# claimtrail container image.
#
#   docker build -t claimtrail .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://user:pass@host:5432/db claimtrail
#
# Without DATABASE_URL the service uses an SQLite file, claimtrail.db, in /data (the working
# directory); mount a volume there to keep it. See docker-compose.yml for PostgreSQL.

# ---- build ------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /app

# Dependency-caching layer: build every dependency against stub sources, so later source-only
# changes do not rebuild the dependency graph. The bench and test targets named in Cargo.toml
# must exist for the manifest to load, so they get stubs too (they are not built here).
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches tests/api \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/anchor.rs \
    && touch tests/api/main.rs \
    && cargo build --release --locked \
    && rm -rf src

# The real sources. Migrations are embedded into the binary with include_str!, so they are
# needed here at build time only. Touch the crate roots so cargo does not mistake the stub
# build for an up-to-date one (COPY keeps the files' original, older mtimes).
COPY src ./src
COPY migrations ./migrations
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && cp target/release/claimtrail /usr/local/bin/claimtrail

# ---- runtime ----------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 claimtrail \
    && useradd --system --uid 10001 --gid claimtrail --home-dir /data --shell /usr/sbin/nologin claimtrail \
    && mkdir -p /data/keys \
    && chown -R claimtrail:claimtrail /data

COPY --from=builder /usr/local/bin/claimtrail /usr/local/bin/claimtrail

WORKDIR /data
USER 10001:10001

ENV CLAIMTRAIL_BIND=0.0.0.0:8080
# The transparency log's signing key: mount a volume (or a secret) at /data/keys to keep it.
ENV CLAIMTRAIL_LOG_KEY_FILE=/data/keys/claimtrail-log.key
EXPOSE 8080

# No HEALTHCHECK here: the slim image has no curl/wget. docker-compose.yml probes GET /ready
# with bash's /dev/tcp instead.
ENTRYPOINT ["claimtrail"]
CMD ["serve"]
