from ._importing import RegisterImportCommand


class Command(RegisterImportCommand):
    help = "导入风险等级评定。任何一行有错则全部不写入，退出码非零"
    kind = "tiers"
