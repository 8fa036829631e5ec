# newsrelay: slim image, non-root, state in /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /data newsrelay \
    && mkdir -p /data \
    && chown newsrelay /data

USER newsrelay
WORKDIR /data
VOLUME ["/data"]
ENV NEWSRELAY_DATABASE__URL="sqlite:////data/newsrelay.db"

# Healthy while the process runs and its database is readable.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["newsrelay", "stats"]

ENTRYPOINT ["newsrelay"]
CMD ["run"]
