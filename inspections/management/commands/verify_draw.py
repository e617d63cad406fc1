"""verify_draw DRAW_ID_OR_ZIP — re-verify a draw from the database or from an evidence zip.

Prints one line per joint-visit merge the draw took part in, then ``OK draw <id>: <n> selected,
seed <S>``, and exits 0 when everything matches; otherwise prints each difference and exits 1. A missing draw or an unreadable zip is a CommandError (1).
"""

import json
import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from inspections.drawing import evidence
from inspections.drawing import verify as engine
from inspections.models import Draw
from inspections.selectors.draws import draw_verification, joint_visit_records


class Command(BaseCommand):
    help = "重新核验一次抽取（抽取编号或证据包 zip）：一致时输出 OK 并以 0 退出，否则列出每处差异并以 1 退出。"

    def add_arguments(self, parser):
        parser.add_argument("draw", help="抽取编号，或证据包 zip 文件路径")

    def handle(self, *args, **options):
        target = options["draw"]
        visits = []
        if target.isdigit():
            problems, label, visits = self._from_database(int(target))
        else:
            path = Path(target)
            if not path.is_file():
                raise CommandError(f"找不到抽取或文件：{target}")
            try:
                problems = evidence.verify_zip(path)
                files = evidence.read_zip(path)
                draw = json.loads(files["draw.json"]) if "draw.json" in files else {}
                visits = engine.read_joint_visits(files.get("joint_visits.json"))
            except (zipfile.BadZipFile, ValueError, KeyError) as exc:
                raise CommandError(f"无法读取证据包：{exc}") from exc
            label = f"draw {draw.get('draw_id', '?')}: {len(draw.get('selected', []))} selected"
            label += f", seed {draw.get('seed_string', '')}"
        if problems:
            for line in problems:
                self.stdout.write(line)
            raise SystemExit(1)
        for line in engine.joint_visit_report(visits):
            self.stdout.write(line)
        self.stdout.write(f"OK {label}")

    def _from_database(self, pk: int):
        draw = Draw.objects.filter(pk=pk).first()
        if draw is None:
            raise CommandError(f"抽取 {pk} 不存在")
        if draw.document is None:
            raise CommandError(f"抽取 {pk} 尚未完成摇号（{draw.get_status_display()}）")
        problems = draw_verification(draw)
        label = f"draw {pk}: {draw.selections.count()} selected, seed {draw.seed_string}"
        return problems, label, joint_visit_records(draw)
