"""Create the eight roles as groups with their Chinese names (docs/contracts.md)."""

from django.db import migrations

ROLES = ["牵头股室", "业务股室", "执法检查人员", "股室负责人", "纪检派驻组", "系统管理员",
         "安全管理员", "审计管理员"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
