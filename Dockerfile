# Centralino API. Build: docker build -t centralino .   Run: docker run -p 8000:8000 -e CENTRALINO_ENV=production ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CENTRALINO_DATABASE_URL=sqlite+aiosqlite:////data/centralino.db \
    CENTRALINO_CONFIG_DIR=/data/generated \
    CENTRALINO_DEV_SECRETS_FILE=/data/.centralino-dev-secrets.json

RUN groupadd --system centralino && useradd --system --gid centralino --home-dir /app centralino \
    && mkdir -p /data && chown centralino:centralino /data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY app ./app
COPY deploy ./deploy
RUN pip install .

USER centralino
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
# Migrations first, then uvicorn (centralino serve does both).
CMD ["centralino", "serve", "--host", "0.0.0.0", "--port", "8000"]
