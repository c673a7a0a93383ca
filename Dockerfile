# OES API image: `docker build -t oes .`, then `docker run -p 8080:8080 oes`
# (SQLite in /app/data by default; set OES_DATABASE_URL for PostgreSQL).

# --- build ------------------------------------------------------------------------------
# The workspace asks for Rust 1.95 (rust-version in Cargo.toml).
FROM rust:1.95-bookworm AS builder
WORKDIR /src
# SQLite and libpq are compiled from source (bundled features of libsqlite3-sys and
# pq-sys) with the C compiler this image already has: no -dev packages needed.
COPY . .
RUN cargo build --release -p api --locked \
    && install -D -m 0755 target/release/oes /out/oes

# --- run --------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: TLS to a remote PostgreSQL; curl: the HEALTHCHECK below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
# A fixed, unprivileged uid; /app/data holds the default SQLite database.
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin oes \
    && install -d -o oes -g oes /app /app/data
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
