import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("enterprises", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportBatch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=32, verbose_name="类型")),
                ("filename", models.CharField(max_length=255, verbose_name="文件名")),
                ("stored_path", models.CharField(max_length=500, verbose_name="存储路径")),
                ("sha256", models.CharField(max_length=64, verbose_name="SHA-256")),
                ("size", models.PositiveBigIntegerField(default=0, verbose_name="大小（字节）")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("previewed", "已预览"),
                            ("queued", "排队中"),
                            ("running", "导入中"),
                            ("applied", "已导入"),
                            ("failed", "失败"),
                            ("cancelled", "已取消"),
                        ],
                        default="previewed",
                        max_length=16,
                        verbose_name="状态",
                    ),
                ),
                ("counts", models.JSONField(blank=True, default=dict, verbose_name="统计")),
                ("errors", models.JSONField(blank=True, default=list, verbose_name="错误（前若干条）")),
                ("progress", models.PositiveSmallIntegerField(default=0, verbose_name="进度（%）")),
                ("message", models.CharField(blank=True, max_length=500, verbose_name="说明")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="上传时间")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="完成时间")),
            ],
            options={
                "verbose_name": "导入批次",
                "verbose_name_plural": "导入批次",
                "ordering": ["-id"],
            },
        ),
        migrations.AddIndex(
            model_name="enterprise",
            index=models.Index(fields=["township", "uscc"], name="ent_township_uscc"),
        ),
        migrations.AddIndex(
            model_name="enterprise",
            index=models.Index(fields=["status", "uscc"], name="ent_status_uscc"),
        ),
        migrations.AddIndex(
            model_name="enterprise",
            index=models.Index(fields=["enterprise_type", "uscc"], name="ent_type_uscc"),
        ),
        migrations.AddIndex(
            model_name="enterprise",
            index=models.Index(fields=["scale", "uscc"], name="ent_scale_uscc"),
        ),
        migrations.AddIndex(
            model_name="enterprise",
            index=models.Index(fields=["section", "uscc"], name="ent_section_uscc"),
        ),
        migrations.AddField(
            model_name="importbatch",
            name="created_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="上传人",
            ),
        ),
    ]
