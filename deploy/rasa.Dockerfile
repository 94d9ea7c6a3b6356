# Rasa image (Python 3.10, Rasa Open Source 3.6.21): the model is trained at build time,
# so every replica of one image answers the same way. Build from the repository root:
#   docker build -f deploy/rasa.Dockerfile -t ventanilla-rasa:0.1.0 .
# Training takes 3-4 minutes on 2 cores (README, "Measured on 2 cores").
FROM python:3.10.13-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    PYTHONPATH=/app
WORKDIR /app
COPY requirements/rasa.txt requirements/rasa.txt
# setuptools below 70 first: the sdist `randomname` does not build with newer ones.
RUN pip install --no-cache-dir setuptools==69.5.1 wheel==0.43.0 \
    && pip install --no-cache-dir -r requirements/rasa.txt

COPY config.yml config.yml
COPY bot bot
COPY data data
COPY connectors connectors
RUN rasa train --config config.yml --domain bot/domain --data bot/dialogue data/nlu \
        --out models --fixed-model-name ventanilla

FROM python:3.10.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    HOME=/tmp \
    VENTANILLA_RASA_MODEL=/app/models/ventanilla.tar.gz \
    VENTANILLA_RASA_PORT=5005
WORKDIR /app
COPY --from=build /usr/local /usr/local
COPY bot bot
COPY connectors connectors
COPY launcher launcher
COPY --from=build /app/models/ventanilla.tar.gz models/ventanilla.tar.gz
RUN useradd --system --uid 10001 --no-create-home rasa

USER 10001
EXPOSE 5005
# Writes the channels' credentials from the environment, then execs `rasa run`.
CMD ["python", "-m", "launcher.rasa_server"]
