# One image for web, worker, beat and the migrate job (deploy/entrypoint.sh runs the role compose names).
# The builder builds the wheel with the locked setuptools and installs the runtime lock (hashes required) and the
# wheel into /opt/venv; the runtime stage is the slim Python image with that venv, the collected static files and a
# non-root user: no compiler, no pip, no source tree.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements requirements
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes --only-binary :all: -r requirements/build.txt \
    && python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --require-hashes --only-binary :all: \
        -r requirements/base.txt
COPY pyproject.toml README.md ./
COPY ctit_trial ctit_trial
COPY enrollment enrollment
COPY dosing dosing
COPY safety safety
COPY seeds seeds
COPY templates templates
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && python -m pip --python /opt/venv/bin/python install --no-deps /wheels/ctit_trial-*.whl
# Static files at build time, with DEBUG off (the manifest storage) as a test run: no secret is needed to collect.
ENV PATH=/opt/venv/bin:$PATH DJANGO_SETTINGS_MODULE=ctit_trial.settings CTIT_ENV_FILE= CTIT_VAR_DIR=/tmp/var
RUN DJANGO_ALLOW_DEV_SECRET_KEY=1 DJANGO_STATIC_ROOT=/app/static django-admin collectstatic --no-input -v 0

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=ctit_trial.settings CTIT_ENV_FILE= CTIT_VAR_DIR=/app/var DJANGO_STATIC_ROOT=/app/static
RUN python -m pip uninstall --yes --quiet pip setuptools wheel \
    && useradd --create-home --uid 1000 ctit && mkdir -p /app/var && chown ctit:ctit /app/var
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app/static /app/static
COPY deploy/entrypoint.sh /usr/local/bin/ctit-entrypoint
WORKDIR /app
USER ctit
EXPOSE 8000
ENTRYPOINT ["ctit-entrypoint"]
CMD ["web"]
