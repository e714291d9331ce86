# The app image: `docker compose up --build` runs it against the `postgres` service (server provider).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, so that editing code does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir app sandbox && touch app/__init__.py sandbox/__init__.py && pip install -e . \
    && rm -rf app sandbox
COPY app ./app
COPY sandbox ./sandbox
COPY templates ./templates
COPY static ./static
COPY lessons ./lessons
# Editable, so that templates/, static/ and lessons/ are found beside the code, as in a checkout.
RUN pip install --no-deps -e . \
    && useradd --system --create-home --home-dir /home/app app \
    && mkdir -p /data && chown app /data

USER app
ENV MIGRATION_LAB_HOST=0.0.0.0 \
    MIGRATION_LAB_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/', timeout=2)"
CMD ["migration-lab", "serve"]
