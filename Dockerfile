# priosync as a container: `priosync serve` (webhooks + schedule) by default; any other
# command runs one-shot, e.g. `docker run … priosync sync` from cron or a Kubernetes CronJob.
#
#   docker build -t priosync .
#   docker run -p 8080:8080 -v "$PWD/priosync.toml:/config/priosync.toml:ro" \
#     -v priosync-state:/state -e JIRA_EMAIL -e JIRA_API_TOKEN priosync
#
# BASE_IMAGE: any Debian-like image with python3 (>= 3.11) and its venv module; the default is
# the official slim image. Where no registry is reachable, build one from Debian packages
# (scripts/container-base.sh: debootstrap + docker import) and pass it here. PIP_INDEX_URL /
# PIP_FIND_LINKS / PIP_NO_INDEX point pip at a mirror or a wheelhouse (the container test).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_NO_INDEX
# The extras to install: `postgres` lets `state` be a PostgreSQL URL (the replicas of
# examples/deploy/replicas/); `--build-arg PRIOSYNC_EXTRAS=` leaves it out.
ARG PRIOSYNC_EXTRAS=postgres

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/priosync/bin:$PATH

WORKDIR /app
# Only what the package needs (see .dockerignore): tests, docs and examples stay out.
COPY pyproject.toml README.md ./
COPY priosync ./priosync
COPY config ./config
COPY scoring ./scoring
COPY connectors ./connectors
COPY sync ./sync
COPY reports ./reports
COPY service ./service
COPY cli ./cli
COPY sandbox ./sandbox
# A venv of its own: the same on the slim image and on a bare Debian python3.
RUN python3 -m venv /opt/priosync \
 && /opt/priosync/bin/pip install ".${PRIOSYNC_EXTRAS:+[$PRIOSYNC_EXTRAS]}" \
 && rm -rf /app/build

# An unprivileged user owning only the state volume; the config is mounted read-only.
RUN groupadd --system --gid 10001 priosync \
 && useradd --system --uid 10001 --gid priosync --home-dir /state --shell /usr/sbin/nologin priosync \
 && mkdir -p /state /config \
 && chown priosync:priosync /state
VOLUME ["/state"]

# Inside the container listen on every interface; publishing the port decides who reaches it.
ENV PRIOSYNC_CONFIG=/config/priosync.toml \
    PRIOSYNC_STATE=/state/audit.sqlite3 \
    PRIOSYNC_SERVER__HOST=0.0.0.0 \
    PRIOSYNC_SERVER__PORT=8080

USER 10001:10001
EXPOSE 8080

# No curl in the image: ask /healthz with its Python, on the port the service listens on
# (PRIOSYNC_SERVER__PORT, which `docker run -e` may change; set it rather than `serve --port`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('PRIOSYNC_SERVER__PORT') or '8080'; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["priosync"]
CMD ["serve"]
