# One process: migrate (under an advisory lock, so N containers may start together), then
# serve HTTP and run this replica's share of the subscriptions.
#   docker build -t cqrs . && docker run -e DATABASE_URL=postgresql://... -e AUTH_JWT_SECRET=... -p 8000:8000 cqrs
# (README.md's line; compose.yaml adds PostgreSQL and NATS). The image has no embedded
# PostgreSQL: without DATABASE_URL it refuses to start, in one line, and so it does with
# DATABASE_URL but no auth setting.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM python:3.11.7-slim-bookworm
COPY --from=uv /uv /usr/local/bin/uv
RUN useradd --create-home --uid 10001 --user-group app
WORKDIR /srv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_NO_CACHE=1 HOST=0.0.0.0 PORT=8000 LOG_FORMAT=json \
    PATH=/srv/.venv/bin:$PATH
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-default-groups --no-install-project
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN uv sync --frozen --no-default-groups
USER app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=2)"]
CMD ["app", "serve"]
