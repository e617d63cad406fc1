from ._importing import RegisterImportCommand


class Command(RegisterImportCommand):
    help = "导入监管企业（按统一社会信用代码新增或更新）。任何一行有错则全部不写入，退出码非零"
    kind = "enterprises"
