# The valuechain API service. Point it at shared stores:
#   docker run -e REDIS_URL=redis://redis:6379/0 -e MLFLOW_TRACKING_URI=... -p 8000:8000 valuechain
# The project is installed in place (/app), so config/, mlruns/ and var/ sit where the code
# expects them, as in a clone.
FROM python:3.11-slim
# libgomp: OpenMP runtime of LightGBM and implicit.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 valuechain
WORKDIR /app
COPY pyproject.toml README.md ./
COPY features ./features
COPY service ./service
COPY training ./training
COPY models ./models
COPY cli ./cli
COPY config ./config
RUN pip install --no-cache-dir -e . \
    && mkdir -p mlruns var && chown -R valuechain:valuechain mlruns var
USER valuechain
ENV OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    MLFLOW_DISABLE_TELEMETRY=true PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 WORKERS=2
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["valuechain", "serve"]
