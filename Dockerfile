# The production image: gunicorn serving the app; migrations run as a separate one-shot service.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-mod-spatialite curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api api
COPY cli cli
COPY field field
COPY evidence evidence
COPY schemas schemas
COPY web web
COPY migrations migrations
COPY deploy/gunicorn.conf.py deploy/gunicorn.conf.py
COPY wsgi.py ./
RUN pip install --no-cache-dir .
RUN useradd --system --home /app fieldwatch
USER fieldwatch
EXPOSE 8000
# gthread workers, timeouts and keep-alive: deploy/gunicorn.conf.py (docs/deploy.md); GUNICORN_* override them.
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"]
