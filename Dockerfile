# priosync as a container: `priosync serve` (webhooks + schedule) by default; any other
# command runs one-shot, e.g. `docker run … priosync sync` from cron or a Kubernetes CronJob.
#
#   docker build -t priosync .
#   docker run -p 8080:8080 -v "$PWD/priosync.toml:/config/priosync.toml:ro" \
#     -v priosync-state:/state -e JIRA_EMAIL -e JIRA_API_TOKEN priosync
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

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
RUN pip install . && rm -rf /app/build

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

# slim has no curl: ask /healthz with the Python that is already there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["priosync"]
CMD ["serve"]
