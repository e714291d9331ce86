# The app image. Builds with the official Python image and PyPI by default, or fully offline from a local
# base image and a wheelhouse (`make image` builds `wheels/` on the host first):
#   docker build --build-arg BASE_IMAGE=mlab-local/python:3.11 -t migration-lab .
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# A venv, not the system site-packages: Debian-based images refuse system-wide pip installs (PEP 668).
RUN python3 -m venv /opt/venv
WORKDIR /app
# Dependencies first, so that editing code does not reinstall them. When wheels/ holds wheels, the build
# installs from it alone (no index): reproducible, and possible where no package index is reachable.
COPY wheels/ /wheels/
COPY pyproject.toml README.md ./
RUN mkdir app sandbox && touch app/__init__.py sandbox/__init__.py \
    && if ls /wheels/*.whl >/dev/null 2>&1; then \
         pip install --no-index --find-links /wheels setuptools wheel \
         && pip install --no-index --find-links /wheels --no-build-isolation -e . ; \
       else pip install -e . ; fi \
    && rm -rf app sandbox
COPY app ./app
COPY sandbox ./sandbox
COPY templates ./templates
COPY static ./static
COPY lessons ./lessons
# Editable, so that templates/, static/ and lessons/ are found beside the code, as in a checkout.
RUN pip install --no-deps --no-index --no-build-isolation -e . \
    && useradd --system --uid 10001 --create-home --home-dir /home/app app \
    && mkdir -p /data && chown app /data

USER 10001
ENV MIGRATION_LAB_HOST=0.0.0.0 \
    MIGRATION_LAB_DATA_DIR=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["migration-lab", "serve"]
