# The API image. Neo4j runs beside it from the official image (see docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml setup.py README.md ./
COPY src ./src
COPY cypher ./cypher
# A plain install of the service's side (no pandas, no matplotlib): the schema and Browser
# files ship inside the package (package data).
RUN pip install --no-cache-dir '.[server]' && rm -rf src cypher build && useradd --system --uid 10001 mllineage
USER mllineage
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["mllineage", "serve", "--host", "0.0.0.0", "--port", "8000"]
