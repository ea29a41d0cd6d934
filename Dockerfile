# One image for the API and the worker (the command chooses which). Production settings come from the environment.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN useradd --create-home --uid 10001 subsidy
WORKDIR /app
COPY pyproject.toml README.md ./
COPY subsidy ./subsidy
RUN pip install --no-cache-dir .
USER subsidy
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["subsidy", "api", "--host", "0.0.0.0", "--port", "8000"]
