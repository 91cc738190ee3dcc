# The official Airflow image with this project installed (extend, don't replace: pip runs as `airflow`).
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-wqy-zenhei \
 && rm -rf /var/lib/apt/lists/*
USER airflow

COPY --chown=airflow:root pyproject.toml README.md /opt/hkai/
COPY --chown=airflow:root hkai /opt/hkai/hkai
COPY --chown=airflow:root spiders /opt/hkai/spiders
COPY --chown=airflow:root transforms /opt/hkai/transforms
COPY --chown=airflow:root warehouse /opt/hkai/warehouse
COPY --chown=airflow:root digest /opt/hkai/digest
COPY --chown=airflow:root snapshots /opt/hkai/snapshots
RUN pip install --no-cache-dir "apache-airflow==3.3.2" "apache-airflow-providers-celery" /opt/hkai

ENV HKAI_CRAWL_MODE=live \
    HKAI_SNAPSHOT_DIR=/opt/hkai/snapshots/demo
