# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 ctit
COPY pyproject.toml README.md ./
COPY ctit_trial ctit_trial
COPY enrollment enrollment
COPY dosing dosing
COPY safety safety
RUN pip install --upgrade pip && pip install .
COPY manage.py ./
COPY seeds seeds
COPY templates templates

# Static files are collected at build time; a throwaway key is enough for collectstatic.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
    && mkdir -p /app/var && chown -R ctit /app/var
USER ctit
EXPOSE 8000
CMD ["gunicorn", "ctit_trial.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
