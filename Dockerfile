FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY assistant ./assistant
COPY retrieval ./retrieval
COPY migrations ./migrations
COPY prompts ./prompts
RUN pip install --no-cache-dir .
ENV RO_ASSISTANT_MIGRATIONS_DIR=/app/migrations \
    RO_ASSISTANT_DATA_DIR=/app/.data
RUN useradd --system --uid 10001 ro-assistant
USER 10001
EXPOSE 8000
