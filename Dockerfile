# One image for the api, worker and migrate services of docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTFLOW_ANSIBLE_DIR=/app \
    VIRTFLOW_STATE_DIR=/var/lib/virtflow

# ssh reaches the baremetal hosts; the libvirt modules themselves run on the hosts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssh-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY api ./api
COPY jobs ./jobs
# Editable install: the repo layout (playbooks/, roles/, pyproject.toml's alembic config) stays at /app.
RUN pip install --no-cache-dir -e .
COPY ansible.cfg ./
COPY playbooks ./playbooks
COPY roles ./roles
COPY inventory ./inventory

RUN useradd --create-home --uid 1000 virtflow && mkdir -p /var/lib/virtflow \
    && chown virtflow /var/lib/virtflow
USER virtflow
EXPOSE 8000
# `virtflow serve`: gunicorn with the request limits, JSON logs when asked, and the workers'
# shared metrics directory (docs/runbook.md, Metrics).
CMD ["virtflow", "serve", "--bind", "0.0.0.0:8000", "--workers", "4"]
