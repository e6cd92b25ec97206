# One process: migrate, then serve HTTP and run this replica's share of the subscriptions.
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv
WORKDIR /srv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy HOST=0.0.0.0 PORT=8000 LOG_FORMAT=json
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN uv sync --frozen --no-dev
EXPOSE 8000
# DATABASE_URL must be set in a container; the embedded PostgreSQL is for development.
CMD ["uv", "run", "--no-sync", "app", "serve"]
