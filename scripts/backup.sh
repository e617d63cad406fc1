#!/usr/bin/env bash
# Nightly backup (deploy/systemd/wugang-backup.timer runs it; docs/deploy.md "Backups").
#   BACKUP_ROOT/<YYYYmmdd-HHMM>/  ← manage.py create_backup (database + media + manifest)
# then checks the copy (verify_backup) and prunes: keeps KEEP_DAYS daily backups and the first
# backup of each of the last KEEP_MONTHS months. Copy BACKUP_ROOT off the machine as well
# (rsync to the bureau's backup server): a backup on the same disk is not a backup.
# Environment: the app's variables (/etc/wugang/env) plus BACKUP_ROOT, KEEP_DAYS, KEEP_MONTHS,
# PYTHON (default: /srv/wugang/venv/bin/python, else .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKUP_ROOT=${BACKUP_ROOT:-/backup/wugang}
KEEP_DAYS=${KEEP_DAYS:-30}
KEEP_MONTHS=${KEEP_MONTHS:-12}
PYTHON=${PYTHON:-$( [ -x /srv/wugang/venv/bin/python ] && echo /srv/wugang/venv/bin/python || echo .venv/bin/python )}

mkdir -p "$BACKUP_ROOT"
stamp=$(date +%Y%m%d-%H%M)
log="$BACKUP_ROOT/backup.log"
{
  echo "== $(date -Is) backup $stamp"
  "$PYTHON" manage.py create_backup "$BACKUP_ROOT/$stamp"
  "$PYTHON" manage.py verify_backup "$BACKUP_ROOT/$stamp"
} >>"$log" 2>&1 || { echo "backup $stamp FAILED, see $log" >&2; exit 1; }

# Prune: newest KEEP_DAYS directories, plus the oldest one of each month for KEEP_MONTHS months.
mapfile -t all < <(find "$BACKUP_ROOT" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*-[0-9]*' -printf '%f\n' | sort)
declare -A keep=()
for d in "${all[@]: -$KEEP_DAYS}"; do keep[$d]=1; done
declare -A month_first=()
for d in "${all[@]}"; do m=${d:0:6}; [ -n "${month_first[$m]:-}" ] || month_first[$m]=$d; done
for m in $(printf '%s\n' "${!month_first[@]}" | sort | tail -n "$KEEP_MONTHS"); do keep[${month_first[$m]}]=1; done
for d in "${all[@]}"; do
  [ -n "${keep[$d]:-}" ] || { echo "prune $d" >>"$log"; rm -rf -- "${BACKUP_ROOT:?}/$d"; }
done
echo "$BACKUP_ROOT/$stamp"
