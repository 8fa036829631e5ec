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
# /healthz and /metrics on port 9090 of the container (publish it, or scrape it from the
# container network); set NEWSRELAY_HTTP__PORT=0 to turn the port off (and the check with it).
ENV NEWSRELAY_DATABASE__URL="sqlite:////data/newsrelay.db" \
    NEWSRELAY_HTTP__PORT=9090 \
    NEWSRELAY_HTTP__LISTEN=0.0.0.0
EXPOSE 9090

# Healthy while the running bot says so: its event loop, feed poll and update loop all
# made progress recently (503 otherwise; no answer within 5 s counts as unhealthy too).
# The start period covers start-up retries while Telegram is unreachable.
HEALTHCHECK --interval=30s --timeout=6s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]

ENTRYPOINT ["newsrelay"]
CMD ["run"]
