# The serving image: the API only, without the training stack (no scikit-learn, implicit,
# matplotlib or full MLflow; mlflow-skinny resolves and downloads champions). Dependencies come
# from the hashed lock locks/serve.txt. Point it at shared stores:
#   docker run -e REDIS_URL=redis://redis:6379/0 -e MLFLOW_TRACKING_URI=http://mlflow:5000 \
#     -p 8000:8000 valuechain
# Build: docker build -t valuechain .   (the compose file builds it as valuechain-serve)
FROM python:3.11-slim
# libgomp: OpenMP runtime of LightGBM.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 valuechain
WORKDIR /app
COPY locks/serve.txt locks/serve.txt
RUN pip install --no-cache-dir --no-deps --require-hashes -r locks/serve.txt
# Only the packages the API process imports (a test keeps training/ and cli/ out of it).
COPY features ./features
COPY models ./models
COPY service ./service
RUN mkdir -p var && chown -R valuechain:valuechain var
USER valuechain
ENV PYTHONPATH=/app STATE_DIR=/app/var \
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    MLFLOW_DISABLE_TELEMETRY=true PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 WORKERS=2
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# uvicorn directly (not `valuechain serve`): the CLI imports the training commands.
CMD exec uvicorn service.main:create_app --factory --host "$HOST" --port "$PORT" --workers "$WORKERS"
