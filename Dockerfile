# Build stage: torch is needed only to export the embedding model to ONNX.
FROM python:3.11-slim AS model
WORKDIR /src
COPY pyproject.toml README.md ./
COPY assistant ./assistant
COPY retrieval ./retrieval
RUN pip install --no-cache-dir '.[export]' \
 && RO_ASSISTANT_MODEL_DIR=/models HF_HUB_OFFLINE=1 ro-assistant embedder export

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY assistant ./assistant
COPY retrieval ./retrieval
COPY migrations ./migrations
COPY prompts ./prompts
RUN pip install --no-cache-dir .
COPY --from=model /models /app/models
ENV RO_ASSISTANT_MIGRATIONS_DIR=/app/migrations \
    RO_ASSISTANT_DATA_DIR=/app/.data \
    RO_ASSISTANT_MODEL_DIR=/app/models \
    RO_ASSISTANT_PROMPTS_DIR=/app/prompts \
    HF_HUB_OFFLINE=1
RUN useradd --system --uid 10001 ro-assistant \
 && mkdir -p /var/lib/ro-assistant && chown 10001 /var/lib/ro-assistant
USER 10001
EXPOSE 8000
