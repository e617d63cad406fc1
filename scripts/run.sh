#!/usr/bin/env bash
# Start the Celery worker with its beat scheduler in the background and the web server in the
# foreground; stop both on Ctrl-C.
set -euo pipefail
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
$BIN/celery -A config worker -B --pool=solo --loglevel=WARNING \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "后台任务进程已启动（日志 var/worker.log）。Worker and scheduler running (log: var/worker.log)."
echo "打开 http://127.0.0.1:8000 ，用上面的演示账户登录。Open http://127.0.0.1:8000 and log in with a demo login above."
$BIN/python manage.py runserver 127.0.0.1:8000
