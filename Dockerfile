# syntax=docker/dockerfile:1
# The source-100ms image: `docker run airbyte/source-100ms:1.0.0 spec|check|discover|read ...`.
# integration_tests/test_packaging.py runs the same steps without Docker: build the wheel, install it into a
# clean environment, run the installed `source-100ms`.

# ---- build: turn the checkout into a wheel (manifest.yaml is copied into the package, not linked)
FROM python:3.11-slim AS builder
WORKDIR /src
COPY pyproject.toml README.md manifest.yaml ./
COPY source_100ms ./source_100ms
RUN python -m pip install --no-cache-dir --upgrade pip \
 && python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# ---- run: the wheel and its dependencies in a virtual environment, nothing else
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/source-100ms \
    PATH=/opt/source-100ms/bin:$PATH
COPY --from=builder /wheels /tmp/wheels
# The wheel is pure Python and airbyte-cdk's dependencies ship wheels for linux/amd64 and arm64, so no
# compiler is installed; pip and setuptools are removed from the environment once it is built.
RUN python -m venv "$VIRTUAL_ENV" \
 && "$VIRTUAL_ENV/bin/pip" install --no-cache-dir /tmp/wheels/*.whl \
 && "$VIRTUAL_ENV/bin/pip" uninstall --yes pip setuptools \
 && rm -rf /tmp/wheels \
 && useradd --system --uid 1000 --user-group --home-dir /airbyte --create-home airbyte
USER airbyte
WORKDIR /airbyte
# The Airbyte platform reads this variable to know what to run in the container.
ENV AIRBYTE_ENTRYPOINT="source-100ms"
ENTRYPOINT ["source-100ms"]
LABEL io.airbyte.name=airbyte/source-100ms \
      io.airbyte.version=1.0.0
