# The serving image of the api, worker, migrate and flower services of docker-compose.yml: the
# whoru wheel (its models and migrations inside) with the deploy extra and no TensorFlow (training
# runs elsewhere, `pip install 'whoru[train]'`), run as an unprivileged user.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY whoru whoru
COPY api api
COPY worker worker
COPY training training
COPY cli cli
COPY client client
COPY bench bench
COPY migrations migrations
COPY models models
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir "whoru[deploy] @ file://$(ls /wheels/whoru-*.whl)" \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data whoru \
    && mkdir -p /data/storage && chown -R whoru:whoru /data
USER whoru
WORKDIR /data
ENV WHORU_ENV=production WHORU_HOME=/data
