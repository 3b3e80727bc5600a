FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8000

WORKDIR /app
# WeasyPrint (PDF reports) needs Pango and HarfBuzz; the reports are set in DejaVu.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 portal
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install .
# .dockerignore keeps secrets, local databases, virtualenvs and media out of this copy.
COPY . .
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media && chown -R portal /app/media
USER portal

EXPOSE 8000
# gunicorn binds 0.0.0.0:$PORT.
CMD ["gunicorn", "cpts_portal.wsgi:application", "--workers", "3", "--access-logfile", "-"]
