from ._importing import RegisterImportCommand


class Command(RegisterImportCommand):
    help = "导入许可证（专项库）。任何一行有错则全部不写入，退出码非零"
    kind = "licences"
