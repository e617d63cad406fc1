from ._importing import RegisterImportCommand


class Command(RegisterImportCommand):
    help = "导入随机抽查事项清单。任何一行有错则全部不写入，退出码非零"
    kind = "check_items"
