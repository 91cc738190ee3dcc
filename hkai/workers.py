"""Which worker ran a task: a `[core] hostname_callable` for Airflow workers that share one host.

Airflow records the hostname of every task instance from `[core] hostname_callable`. Two Celery
workers on one machine (as in `make test-distributed`, where they stand in for two machines) would
both report the machine's name, so each worker is given its own name in Airflow's configuration,
`[hkai] worker_name` (environment variable `AIRFLOW__HKAI__WORKER_NAME`, one value per worker), and
this callable returns it. Without one it returns the fully qualified host name, Airflow's default.

Use: `AIRFLOW__CORE__HOSTNAME_CALLABLE=hkai.workers.task_hostname`.
"""

from __future__ import annotations

import socket

SECTION = "hkai"
KEY = "worker_name"


def task_hostname() -> str:
    """This worker's name (`[hkai] worker_name`), else the machine's fully qualified name."""
    from airflow.sdk.configuration import conf

    name = (conf.get(SECTION, KEY, fallback="") or "").strip()
    return name or socket.getfqdn()
