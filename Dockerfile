# One image for the api, worker, migrate and flower services of docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY whoru whoru
COPY api api
COPY worker worker
COPY training training
COPY migrations migrations
COPY models models
RUN pip install --no-cache-dir -e '.[deploy]'
ENV WHORU_ENV=production
