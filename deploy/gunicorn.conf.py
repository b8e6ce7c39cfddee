"""gunicorn settings of the production image: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app`` (docs/deploy.md).

Each value can be changed by the environment variable named beside it, so the same file
serves the image, docker-compose and the stress harnesses (stress/serve.py).
"""

import os

#: Where to listen; nginx in front proxies to it (GUNICORN_BIND).
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
#: Processes (GUNICORN_WORKERS): two per core is plenty, the work waits on the database and the store.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1))))
#: Threads per process: a tus PATCH holds a thread while its chunk streams in (nginx passes tus bodies
#: through unbuffered), so a few slow phones must not take a whole process. gthread also keeps idle
#: keep-alive connections in its poller, not in a thread, and hands a connection to a thread only when
#: its request has started to arrive.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
#: Idle and kept-alive connections one process holds (beyond ``threads`` that are working).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
#: Seconds without a heartbeat before the master kills a process: a gthread process beats from its
#: main loop, so a long upload does not trip it; a process wedged in C code does (GUNICORN_TIMEOUT).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
#: Seconds a stopping process may finish what it serves (a chunk in flight) before it is killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
#: Seconds an idle keep-alive connection is kept; nginx keeps its own towards phones (GUNICORN_KEEPALIVE).
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
#: Bounds on the request head: a tus Upload-Metadata with a long file name fits in 8 KiB.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
#: Access log on stdout, as the container's log (GUNICORN_ACCESSLOG; empty: none).
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
