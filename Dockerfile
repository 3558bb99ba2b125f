# The serving image of the api, worker, migrate and flower services of docker-compose.yml:
# no TensorFlow (training runs elsewhere, `pip install 'whoru[train]'`), run as an unprivileged user.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY whoru whoru
COPY api api
COPY worker worker
COPY training training
COPY cli cli
COPY client client
COPY bench bench
COPY migrations migrations
COPY models models
# Editable, so the code runs from /app beside alembic.ini, migrations/ and models/, which a wheel leaves out.
RUN pip install --no-cache-dir --editable '.[deploy]' \
    && useradd --system --uid 10001 --home-dir /data whoru \
    && mkdir -p /data/storage && chown -R whoru:whoru /data
USER whoru
ENV WHORU_ENV=production WHORU_HOME=/data
