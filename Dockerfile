# Front-end libraries come from npm at build time, exactly as package-lock.json pins them.
FROM node:20-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=crm.settings.production
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends make curl \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt ./
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.txt
COPY --from=frontend /app/node_modules ./node_modules
COPY . .
# Placeholders: collectstatic reads no secret, but production settings require them to be set.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    CRM_FIELD_ENCRYPTION_KEYS=Y29sbGVjdHN0YXRpYy1vbmx5LW5vdC1hLXNlY3JldCE= \
    .venv/bin/python manage.py collectstatic --noinput
ENV PATH="/app/.venv/bin:$PATH"
RUN useradd --system --home /app crm && mkdir -p /app/var && chown -R crm /app/var
USER crm
EXPOSE 8000
CMD ["gunicorn", "crm.asgi:application", "-c", "crm/gunicorn.conf.py"]
