# The official Airflow image with the hkai package installed on top.
# Build: docker compose build   (docker-compose.yml uses this file for every Airflow service)
ARG AIRFLOW_VERSION=3.3.2
FROM apache/airflow:${AIRFLOW_VERSION}-python3.11
ARG AIRFLOW_VERSION

# The image's default user is `airflow`; pip refuses to run as root in this image.
USER airflow

# The whole project (minus what .dockerignore drops) goes to one source directory. Pinning
# apache-airflow in the same pip call stops our dependencies from silently up- or downgrading it.
COPY --chown=airflow:0 . /opt/airflow/hkai
RUN pip install --no-cache-dir \
        "apache-airflow==${AIRFLOW_VERSION}" \
        apache-airflow-providers-celery \
        apache-airflow-providers-postgres \
        apache-airflow-providers-fab \
        /opt/airflow/hkai

# DAG files are baked in (rebuild after changing them); data/ and out/ are created here so the
# named volumes mounted over them start out owned by `airflow`.
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
# The HK AI Trends pages (web/ is installed with the package above; this registers them with Airflow).
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
RUN mkdir -p /opt/airflow/data /opt/airflow/out

ENV HKAI_CRAWL_MODE=live \
    HKAI_DATA_DIR=/opt/airflow/data \
    HKAI_OUT_DIR=/opt/airflow/out \
    HKAI_SNAPSHOT_DIR=/opt/airflow/hkai/snapshots/demo
