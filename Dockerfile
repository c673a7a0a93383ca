# OES API image: `docker build -t oes .`, then `docker run -p 8080:8080 oes`
# (SQLite in the /app/data volume by default; set OES_DATABASE_URL for PostgreSQL).

# --- build ------------------------------------------------------------------------------
# The workspace asks for Rust 1.95 (rust-version in Cargo.toml).
FROM rust:1.95-bookworm AS builder
# SQLite and libpq are compiled from source (bundled features of libsqlite3-sys and
# pq-sys); libpq links the system OpenSSL, whose headers these are.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, in a layer of their own: the manifests and the lock file with
# empty crates in place of the code. A change to the code alone starts from here,
# with every dependency already compiled. The empty crates are then forgotten (their
# files and fingerprints), so that the real ones are compiled below whatever their
# files' dates.
COPY Cargo.toml Cargo.lock ./
# How the bundled SQLite is compiled (LIBSQLITE3_FLAGS): before the dependencies.
COPY .cargo .cargo
COPY domain/Cargo.toml domain/
COPY persistence/Cargo.toml persistence/
COPY api/Cargo.toml api/
COPY tests/Cargo.toml tests/
RUN mkdir -p domain/src persistence/src api/src tests/api \
    && touch domain/src/lib.rs persistence/src/lib.rs api/src/lib.rs tests/api/main.rs \
    && echo 'fn main() {}' > api/src/main.rs \
    && cargo build --release -p api --locked \
    && rm -rf domain persistence api tests \
        target/release/.fingerprint/domain-* target/release/.fingerprint/persistence-* \
        target/release/.fingerprint/api-*

# Then the code.
COPY . .
RUN cargo build --release -p api --locked \
    && install -D -m 0755 target/release/oes /out/oes

# --- run --------------------------------------------------------------------------------
FROM debian:bookworm-slim
# libssl3: libpq (PostgreSQL) links it; ca-certificates: TLS to a remote PostgreSQL;
# curl: the HEALTHCHECK below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged uid; /app/data holds the default SQLite database and the
# generated token-signing secret.
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin oes \
    && install -d -o oes -g oes /app /app/data
# Declared after it is made, so that a new volume starts owned by oes.
VOLUME ["/app/data"]
COPY --from=builder /out/oes /usr/local/bin/oes
USER oes
WORKDIR /app
ENV OES_BIND=0.0.0.0:8080
EXPOSE 8080
# Ready means the database answers too. The port follows OES_BIND's default above.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["oes"]
CMD ["serve"]
